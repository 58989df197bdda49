#include "bridge/metrics.hpp"

#include <cstdio>

namespace bridge {

namespace {

// Writes samples of one metric family after its HELP and TYPE lines.
class family {
 public:
  family(std::string& out, std::string_view name, std::string_view type, std::string_view help)
      : out_(out), name_(name) {
    out_ += "# HELP robofy_wa_bridge_";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE robofy_wa_bridge_";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  // One sample; labels as {name, value} pairs, values escaped as the format requires.
  family& sample(std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
                 double value, std::string_view suffix = "") {
    out_ += "robofy_wa_bridge_";
    out_ += name_;
    out_ += suffix;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [label, text] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += label;
        out_ += "=\"";
        for (char c : text) {
          if (c == '\\' || c == '"') out_ += '\\';
          if (c == '\n') {
            out_ += "\\n";
            continue;
          }
          out_ += c;
        }
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    char number[64];
    std::snprintf(number, sizeof number, "%.17g", value);
    out_ += number;
    out_ += '\n';
    return *this;
  }

  family& sample(double value) { return sample({}, value); }

 private:
  std::string& out_;
  std::string_view name_;
};

void histogram(std::string& out, std::string_view name, std::string_view help,
               const latency_histogram& h) {
  family f(out, name, "histogram", help);
  for (std::size_t i = 0; i < latency_histogram::bounds.size(); ++i) {
    char bound[32];
    std::snprintf(bound, sizeof bound, "%g", latency_histogram::bounds[i]);
    f.sample({{"le", bound}}, static_cast<double>(h.cumulative(i)), "_bucket");
  }
  f.sample({{"le", "+Inf"}}, static_cast<double>(h.count()), "_bucket");
  f.sample({}, h.sum_seconds(), "_sum");
  f.sample({}, static_cast<double>(h.count()), "_count");
}

double d(std::uint64_t v) {
  return static_cast<double>(v);
}

// The shared store's figures: Redis round trips, the connection, leases and refusals.
void render_redis(std::string& out, const queue::redis::client_stats& r,
                  const std::optional<store::redis_store_stats>& shared, std::string_view replica) {
  family(out, "replica_info", "gauge", "This replica's name (always 1).")
      .sample({{"replica", replica}}, 1);
  family(out, "redis_round_trips_total", "counter", "Redis round trips, by outcome.")
      .sample({{"outcome", "ok"}}, d(r.round_trips_ok))
      .sample({{"outcome", "server_error"}}, d(r.round_trips_server_error))
      .sample({{"outcome", "timeout"}}, d(r.round_trips_timeout))
      .sample({{"outcome", "connection_error"}}, d(r.round_trips_connection_error));
  family(out, "redis_round_trip_seconds", "summary",
         "Answered Redis round trips and the time they took (sum / count: the mean).")
      .sample({}, std::chrono::duration<double>(r.latency_sum).count(), "_sum")
      .sample({}, d(r.latency_count), "_count");
  family(out, "redis_reconnects_total", "counter", "Redis connections set up after the first.")
      .sample(d(r.reconnects));
  family(out, "redis_connected", "gauge", "1 while a Redis connection is ready.")
      .sample(r.connected ? 1 : 0);
  if (!shared) return;
  family(out, "conversations_owned", "gauge", "Conversations this replica holds a lease on.")
      .sample(d(shared->owned));
  family(out, "lease_takeovers_total", "counter",
         "Conversations claimed from another replica's expired lease.")
      .sample(d(shared->takeovers));
  family(out, "fenced_writes_total", "counter",
         "Steps refused because this replica's lease on the conversation was lost.")
      .sample(d(shared->fenced));
  family(out, "redis_refusals_total", "counter",
         "Deliveries answered 503 because Redis could not store them.")
      .sample(d(shared->refusals));
  family(out, "redis_wait_total", "counter",
         "WAITs for redis.min_replica_acks, by result (acknowledged or short).")
      .sample({{"result", "acknowledged"}}, d(shared->wait_acknowledged))
      .sample({{"result", "short"}}, d(shared->wait_short));
}

}  // namespace

std::string render_metrics(const metrics_view& v) {
  std::string out;
  out.reserve(8192);

  family(out, "build_info", "gauge", "The running version (always 1).")
      .sample({{"version", v.version}}, 1);
  family(out, "ready", "gauge", "1 when /readyz answers 200.").sample(v.ready ? 1 : 0);

  const auto& e = v.endpoint;
  const auto& l = v.listener;
  family(out, "webhook_requests_total", "counter", "Requests on the public listener, by result.")
      .sample({{"result", "accepted"}}, d(e.accepted))
      .sample({{"result", "ignored"}}, d(e.ignored))
      .sample({{"result", "bad_signature"}}, d(e.bad_signature))
      .sample({{"result", "bad_request"}}, d(e.bad_request + l.malformed))
      .sample({{"result", "too_large"}}, d(l.too_large + l.headers_too_large + l.uri_too_long))
      .sample({{"result", "overloaded"}}, d(e.overloaded))
      .sample({{"result", "draining"}}, d(e.draining))
      .sample({{"result", "unstored"}}, d(e.unstored))
      .sample({{"result", "busy"}}, d(l.bodies_over_budget))
      .sample({{"result", "not_found"}}, d(e.not_found))
      .sample({{"result", "method_not_allowed"}}, d(e.method_not_allowed))
      .sample({{"result", "handshake_accepted"}}, d(e.handshake_accepted))
      .sample({{"result", "handshake_refused"}}, d(e.handshake_refused + e.handshake_bad_request));
  family(out, "webhook_handler_timeouts_total", "counter",
         "Requests answered 503 because handling them took longer than server.read_timeout (a "
         "slow disk or Redis); the handler still ran to its end and is counted above too.")
      .sample(d(l.handler_timeouts));
  family(out, "webhook_signatures_total", "counter",
         "Deliveries by the app secret that signed them (previous: during a rotation; remove "
         "meta.previous_app_secret once this stays flat).")
      .sample({{"secret", "current"}}, d(e.signed_current))
      .sample({{"secret", "previous"}}, d(e.signed_previous));
  family(out, "admin_refused_total", "counter",
         "Admin requests refused for a missing, wrong or unconfigured admin.token.")
      .sample(d(v.admin_refused));
  family(out, "connections_refused_total", "counter",
         "Connections closed at accept because the connection limit was reached.")
      .sample(d(l.connections_refused));
  family(out, "connections_shed_total", "counter",
         "Idle connections that had sent no validly signed request, closed to make room.")
      .sample(d(l.connections_shed));
  family(out, "accept_descriptors_exhausted_total", "counter",
         "Accepts that failed because the process was out of file descriptors.")
      .sample(d(l.descriptors_exhausted));
  family(out, "inflight_body_bytes", "gauge",
         "Request body bytes being received now (bounded by server.max_inflight_body_bytes).")
      .sample(d(l.inflight_body_bytes));

  const auto& a = v.admission;
  {
    family f(out, "messages_received_total", "counter", "Messages Meta delivered, by type.");
    for (const auto& [kind, n] : a.by_type)
      f.sample({{"type", webhook::meta::to_string(kind)}}, d(n));
  }
  family(out, "messages_accepted_total", "counter", "Messages queued for an answer.")
      .sample(d(a.accepted));
  family(out, "messages_duplicate_total", "counter",
         "Messages whose wamid had been seen already (Meta's retries).")
      .sample(d(a.duplicates));
  family(out, "messages_ignored_total", "counter",
         "Messages that need no answer (reactions, edits, system notices, ...).")
      .sample(d(a.skipped));
  family(out, "messages_stale_total", "counter",
         "Messages older than queue.max_message_age, not answered.")
      .sample(d(a.stale));
  family(out, "messages_unrouted_total", "counter",
         "Messages for a business number without a route.")
      .sample(d(a.unrouted));
  family(out, "messages_refused_total", "counter",
         "Messages refused with 503 (queue full, draining, journal failure).")
      .sample(d(a.refused));
  family(out, "messages_recovered_total", "counter", "Messages replayed from the journal at start.")
      .sample(d(a.recovered));
  family(out, "messages_paused_total", "counter",
         "Messages accepted and not answered: their conversation was handed to a person.")
      .sample(d(a.paused));
  family(out, "echoes_total", "counter",
         "The business's own messages from the WhatsApp Business app (smb_message_echoes).")
      .sample(d(a.echoes));
  {
    family f(out, "webhook_changes_total", "counter",
             "Webhook changes by field (unknown field names count as other).");
    for (const auto& [field, n] : a.changes_by_field)
      f.sample({{"field", field}}, d(n));
  }
  family(out, "messages_unreadable_total", "counter",
         "Messages acknowledged but not answerable: no id, customer or number, a field of the "
         "wrong type, or an id over its length bound.")
      .sample(d(a.unreadable));
  family(out, "messages_oversized_total", "counter",
         "Messages refused because their text is longer than WhatsApp allows.")
      .sample(d(a.oversized));
  {
    family f(out, "statuses_total", "counter", "Status notifications, by status.");
    for (const auto& [status, n] : a.by_status)
      f.sample({{"status", status}}, d(n));
  }
  family(out, "value_errors_total", "counter", "Errors Meta reported inside deliveries.")
      .sample(d(a.value_errors));

  family(out, "queue_depth", "gauge",
         "Accepted messages not yet finished (being answered included).")
      .sample(d(v.queue_depth));
  family(out, "queue_capacity", "gauge", "queue.capacity.").sample(d(v.queue_capacity));
  family(out, "conversations_in_flight", "gauge", "Conversations a worker is answering now.")
      .sample(d(v.conversations_in_flight));
  if (v.spool) {
    family(out, "spool_pending_messages", "gauge", "Journaled messages not yet finished.")
        .sample(d(v.spool->pending));
    family(out, "spool_bytes", "gauge", "Size of the journal file.")
        .sample(d(v.spool->journal_bytes));
    family(out, "spool_fsyncs_total", "counter", "Journal flushes to disk.")
        .sample(d(v.spool->flushes));
    family(out, "spool_appends_total", "counter", "Journal appends (POSTs journaled).")
        .sample(d(v.spool->appends));
    family(out, "spool_compactions_total", "counter", "Journal rewrites.")
        .sample(d(v.spool->compactions));
    family(out, "spool_write_failures_total", "counter",
           "Journal writes that failed (a full disk); progress records are retried.")
        .sample(d(v.spool->write_failures));
    family(out, "spool_unwritten_bytes", "gauge",
           "Progress records waiting for the disk to take them (not ready while above 0).")
        .sample(d(v.spool->unwritten_bytes));
  }

  const auto& w = v.work;
  {
    family f(out, "robofy_requests_total", "counter", "Robofy calls, by outcome.");
    for (const auto& [outcome, n] : w.robofy_outcomes)
      f.sample({{"outcome", outcome}}, d(n));
  }
  {
    family f(out, "graph_requests_total", "counter",
             "Graph API text sends, by outcome and Meta error code.");
    for (const auto& [key, n] : w.graph_outcomes) {
      f.sample({{"outcome", key.first}, {"code", key.second}}, d(n));
    }
  }
  family(out, "read_receipts_total", "counter", "Mark-read and typing-indicator calls.")
      .sample(d(w.read_marks));
  family(out, "answers_total", "counter", "Conversations answered with Robofy's answer.")
      .sample(d(w.answers));
  family(out, "fallbacks_sent_total", "counter",
         "Conversations answered with replies.fallback_text.")
      .sample(d(w.fallbacks));
  family(out, "unsupported_replies_total", "counter",
         "Conversations answered with replies.unsupported_text.")
      .sample(d(w.unsupported));
  family(out, "reply_failures_total", "counter",
         "Replies Meta refused for good or after every retry.")
      .sample(d(w.send_failures));
  family(out, "pair_rate_limited_total", "counter", "131056 answers waited out.")
      .sample(d(w.pair_limited));
  family(out, "dead_letters_total", "counter",
         "Messages that ended without a real answer, kept as dead letters.")
      .sample(d(w.dead_letters));
  family(out, "answers_cut_total", "counter",
         "Answers longer than replies.max_parts WhatsApp messages, cut with the notice.")
      .sample(d(w.answers_cut));
  family(out, "circuit_open", "gauge", "1 while calls to the upstream are paused.")
      .sample({{"upstream", "robofy"}}, v.robofy_circuit_open ? 1 : 0)
      .sample({{"upstream", "graph"}}, v.graph_circuit_open ? 1 : 0);

  histogram(out, "robofy_request_duration_seconds", "One Robofy call.", w.robofy_seconds);
  histogram(out, "graph_request_duration_seconds", "One Graph API send.", w.graph_seconds);
  histogram(out, "message_duration_seconds",
            "From acceptance to the last part of the reply accepted by Meta.", w.message_seconds);
  if (v.redis) render_redis(out, *v.redis, v.shared, v.replica);
  return out;
}

}  // namespace bridge
