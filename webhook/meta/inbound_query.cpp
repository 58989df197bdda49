#include "webhook/meta/inbound_query.hpp"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <system_error>
#include <utility>

#include "webhook/util/ascii.hpp"
#include "webhook/util/utf8.hpp"

namespace bridge::webhook::meta {
namespace {

namespace sj = simdjson;
namespace od = simdjson::ondemand;

std::string_view first_non_blank(std::string_view a, std::string_view b) noexcept {
  return util::is_blank(a) ? b : a;
}

// Builds a query of at most `limit` bytes. Once a piece had to be cut, later pieces are dropped, so
// the text never jumps over what was lost.
class capped_text {
 public:
  explicit capped_text(std::size_t limit) : limit_(limit) {}

  capped_text& operator<<(std::string_view piece) {
    if (full_) return *this;
    const std::string_view kept = webhook::util::utf8_prefix(piece, limit_ - text_.size());
    text_ += kept;
    full_ = kept.size() < piece.size();
    return *this;
  }

  bool full() const noexcept { return full_; }
  std::string take() && { return std::move(text_); }

 private:
  std::size_t limit_;
  std::string text_;
  bool full_ = false;
};

message_outcome answer(std::string query) {
  return {disposition::answer, std::move(query)};
}

message_outcome answer_capped(std::string_view query) {
  return answer(std::string(webhook::util::utf8_prefix(query, max_query_bytes)));
}

message_outcome unsupported() {
  return {disposition::unsupported, {}};
}

// Room left for a description between `opening` and the closing bracket.
std::size_t room_inside(std::string_view opening) noexcept {
  return max_query_bytes - opening.size() - 1;
}

// "[...]" around a description capped with room_inside(opening), so the bracket always fits.
message_outcome answer_bracketed(std::string_view opening, capped_text&& inner) {
  std::string query(opening);
  query += std::move(inner).take();
  query += ']';
  return answer(std::move(query));
}

message_outcome describe_interactive(const interactive_content& c) {
  if (c.type == "button_reply") {
    const std::string_view title = first_non_blank(c.button_title, c.button_id);
    return util::is_blank(title) ? unsupported() : answer_capped(title);
  }
  if (c.type == "list_reply") {
    if (util::is_blank(c.list_title))
      return util::is_blank(c.list_id) ? unsupported() : answer_capped(c.list_id);
    if (util::is_blank(c.list_description)) return answer_capped(c.list_title);
    capped_text query(max_query_bytes - 1);
    query << c.list_title << " (" << c.list_description;
    std::string text = std::move(query).take();
    text += ')';
    return answer(std::move(text));
  }
  if (c.type == "nfm_reply") {
    std::string form = render_form_response(c.form_response_json);
    if (!form.empty()) return answer(std::move(form));
    return util::is_blank(c.form_body) ? unsupported() : answer_capped(c.form_body);
  }
  return {};  // a subtype this bridge does not know: never guess an answer
}

message_outcome describe_media(const media_content& c, std::string_view what) {
  if (util::is_blank(c.caption)) return unsupported();
  // The note keeps at most half the budget so the caption, the actual question, always fits.
  capped_text note(max_query_bytes / 2 - 1);
  note << "[The customer attached " << what;
  if (!util::is_blank(c.filename)) note << ": " << c.filename;
  std::string note_text = std::move(note).take();
  note_text += ']';
  std::string query(webhook::util::utf8_prefix(c.caption, max_query_bytes - note_text.size() - 1));
  query += '\n';
  query += note_text;
  return answer(std::move(query));
}

message_outcome describe_location(const location_content& c) {
  const bool has_coordinates =
      c.latitude && c.longitude && std::abs(*c.latitude) <= 90.0 && std::abs(*c.longitude) <= 180.0;
  const bool has_name = !util::is_blank(c.name);
  const bool has_address = !util::is_blank(c.address) && c.address != c.name;
  if (!has_coordinates && !has_name && !has_address) return unsupported();
  constexpr std::string_view opening = "[The customer shared a location: ";
  capped_text inner(room_inside(opening));
  if (has_name) inner << c.name;
  if (has_address) inner << (has_name ? ", " : "") << c.address;
  if (has_coordinates) {
    const std::string coordinates = format_number(*c.latitude) + ", " + format_number(*c.longitude);
    if (has_name || has_address) {
      inner << " (" << coordinates << ")";
    } else {
      inner << coordinates;
    }
  }
  return answer_bracketed(opening, std::move(inner));
}

message_outcome describe_contacts(const contacts_content& c) {
  if (c.count == 0) return unsupported();
  std::string opening = c.count == 1
                            ? std::string("[The customer shared a contact: ")
                            : "[The customer shared " + std::to_string(c.count) + " contacts: ";
  capped_text inner(room_inside(opening));
  bool first_card = true;
  for (const contact_card& card : c.cards) {
    if (inner.full()) break;  // linear even for an abusive list
    if (!has_content(card)) continue;
    if (!std::exchange(first_card, false)) inner << "; ";
    bool first_part = true;
    const auto part = [&](std::string_view text) {
      if (!std::exchange(first_part, false)) inner << ", ";
      inner << text;
    };
    if (!util::is_blank(card.formatted_name)) {
      part(card.formatted_name);
    } else if (!util::is_blank(card.first_name) || !util::is_blank(card.last_name)) {
      part(first_non_blank(card.first_name, card.last_name));  // "first last" when both are there
      if (!util::is_blank(card.first_name) && !util::is_blank(card.last_name))
        inner << " " << card.last_name;
    }
    for (const std::string_view phone : card.phones) {
      if (inner.full()) break;
      part(phone);
    }
  }
  return answer_bracketed(opening, std::move(inner));
}

// Renders one Flows value into `out`: strings as they are, numbers shortest, booleans yes/no,
// arrays of those joined by ", "; null, objects and nested arrays leave it empty (the field is left
// out). Any error fails the whole form: the reply's body is then used instead.
sj::error_code render_form_value(od::value value, std::string& out) {
  od::json_type type{};
  if (const auto e = value.type().get(type)) return e;
  switch (type) {
    case od::json_type::string: {
      std::string_view text;
      if (const auto e = value.get_string().get(text)) return e;
      out = text;
      return sj::SUCCESS;
    }
    case od::json_type::number: {
      double number = 0;
      if (const auto e = value.get_double().get(number)) return e;
      out = format_number(number);
      return sj::SUCCESS;
    }
    case od::json_type::boolean: {
      bool flag = false;
      if (const auto e = value.get_bool().get(flag)) return e;
      out = flag ? "yes" : "no";
      return sj::SUCCESS;
    }
    case od::json_type::array: {
      od::array array;
      if (const auto e = value.get_array().get(array)) return e;
      for (auto result : array) {
        od::value element;
        if (const auto e = std::move(result).get(element)) return e;
        od::json_type element_type{};
        if (const auto e = element.type().get(element_type)) return e;
        // Nested containers are skipped unread (On-Demand counts brackets, no recursion).
        if (element_type == od::json_type::array || element_type == od::json_type::object) continue;
        std::string text;
        if (const auto e = render_form_value(element, text)) return e;  // a scalar: one level
        if (text.empty()) continue;
        if (!out.empty()) out += ", ";
        out += text;
      }
      return sj::SUCCESS;
    }
    case od::json_type::null: {
      bool is_null = false;  // is_null() reads "nonsense" as a mere false
      if (const auto e = value.is_null().get(is_null)) return e;
      return is_null ? sj::SUCCESS : sj::N_ATOM_ERROR;
    }
    case od::json_type::object:
      return sj::SUCCESS;
  }
  return sj::SUCCESS;
}

}  // namespace

std::string_view to_string(disposition d) noexcept {
  switch (d) {
    case disposition::answer:
      return "answer";
    case disposition::unsupported:
      return "unsupported";
    case disposition::ignore:
      return "ignore";
  }
  return "ignore";
}

bool has_content(const contact_card& card) noexcept {
  return !card.phones.empty() || !util::is_blank(card.formatted_name) ||
         !util::is_blank(card.first_name) || !util::is_blank(card.last_name);
}

std::string format_number(double value) {
  if (!std::isfinite(value)) return {};
  if (value == 0) value = 0;  // no "-0"
  char buffer[64];
  // Fixed notation reads best; outside this range it would be long, and the shortest form is used.
  const double magnitude = std::abs(value);
  const auto format = value == 0 || (magnitude >= 1e-6 && magnitude < 1e15)
                          ? std::chars_format::fixed
                          : std::chars_format::general;
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, format);
  if (ec != std::errc{}) return {};
  return std::string(buffer, end);
}

std::optional<double> parse_number(std::string_view text) noexcept {
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return std::nullopt;
  text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  if (text.front() == '+') text.remove_prefix(1);  // from_chars refuses a plus sign
  double value = 0;
  const auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::general);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::string render_form_response(std::string_view response_json) {
  if (response_json.empty() || response_json.size() > max_form_json_bytes) return {};
  const sj::padded_string padded(response_json);
  od::parser parser;
  od::document doc;
  if (parser.iterate(padded).get(doc)) return {};
  od::object object;
  if (doc.get_object().get(object)) return {};
  capped_text query(max_query_bytes);
  query << "[The customer submitted a form]";
  bool any = false;
  for (auto result : object) {
    od::field field;
    if (std::move(result).get(field)) return {};
    std::string_view key;
    if (field.unescaped_key().get(key)) return {};
    if (key == "flow_token") continue;  // an opaque id of the business, not the customer's words
    std::string value;
    if (render_form_value(field.value(), value)) return {};
    if (value.empty()) continue;
    query << "\n" << key << ": " << value;
    any = true;
  }
  // Trailing content after the object means the text is not the JSON it claims to be.
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) != sj::OUT_OF_BOUNDS) return {};
  return any ? std::move(query).take() : std::string{};
}

std::string referral_line(const referral_content& referral) {
  const std::string_view title = first_non_blank(referral.headline, referral.body);
  if (util::is_blank(title) && util::is_blank(referral.source_url)) return {};
  capped_text line(max_query_bytes / 4);
  line << "[The customer came from an ad";
  if (!util::is_blank(title)) line << ": \"" << util::trim(title) << "\"";
  if (!util::is_blank(referral.source_url)) line << " " << util::trim(referral.source_url);
  line << "]";
  std::string text = std::move(line).take();
  if (!text.ends_with(']')) text += ']';  // cut: still a closed note
  return text;
}

namespace {

// The message's own outcome, before an ad's note is added.
message_outcome describe_content(message_kind kind, const message_content& content) {
  switch (kind) {
    case message_kind::text:
      // A text's query is what the customer wrote, as written; WhatsApp bounds its length.
      return content.text_body.empty() ? message_outcome{} : answer(std::string(content.text_body));
    case message_kind::interactive:
      return describe_interactive(content.interactive);
    case message_kind::button: {
      const std::string_view text = first_non_blank(content.button.text, content.button.payload);
      return util::is_blank(text) ? unsupported() : answer_capped(text);
    }
    case message_kind::image:
      return describe_media(content.image, "an image");
    case message_kind::video:
      return describe_media(content.video, "a video");
    case message_kind::document:
      return describe_media(content.document, "a document");
    case message_kind::audio:
    case message_kind::sticker:
      return unsupported();
    case message_kind::location:
      return describe_location(content.location);
    case message_kind::contacts:
      return describe_contacts(content.contacts);
    case message_kind::reaction:
    case message_kind::order:
    case message_kind::system:
    case message_kind::request_welcome:
    case message_kind::edit:
    case message_kind::revoke:
    case message_kind::unsupported:
    case message_kind::unknown:
      break;  // informational, or an edit/revoke that must never be answered as a new question
  }
  return {};
}

}  // namespace

message_outcome describe_message(message_kind kind, const message_content& content) {
  message_outcome outcome = describe_content(kind, content);
  if (outcome.disposition != disposition::answer) return outcome;
  const std::string note = referral_line(content.referral);
  if (!note.empty()) outcome.query += "\n" + note;
  return outcome;
}

}  // namespace bridge::webhook::meta
