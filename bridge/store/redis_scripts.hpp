#pragma once

#include "queue/redis/script.hpp"

// The Lua scripts of the Redis store: each is one atomic step (Redis runs a script alone), and
// each checks what it relies on itself, so a retried step after a lost reply is harmless.
//
// Keys (P = redis.key_prefix, p = a conversation's partition, {p} its hash tag, so the keys of
// one conversation share a Redis Cluster slot; shared counters have their own):
//   P:{cap}:unfinished   messages stored and not finished (queue.capacity counts these)
//   P:{p}:seen:<wamid>   a remembered wamid (expires after 7 days)
//   P:{p}:m:<wamid>      a stored message: "<accepted unix ms>\n<payload>", as the replica that
//                        accepted it framed it
//   P:{p}:q:<conv>       wamids waiting in a conversation, oldest first
//   P:{p}:held:<conv>    wamids the conversation's owner claimed
//   P:{p}:begun:<conv>   held wamids whose send has begun
//   P:{p}:doubt:<conv>   wamids whose send began under an owner that lost the conversation
//   P:{p}:lease:<conv>   the owner: {owner, fence, until (Redis time, ms)}
//   P:{p}:leases         conversations by lease deadline (what expired leases to take over)
//   P:{p}:ready, P:{p}:readyset   conversations with waiting messages and no owner
//   P:{p}:fence          the partition's fencing counter (rises with every claim; at least
//                        Redis's clock in microseconds, so a failover never reissues a number)
//   P:{p}:pause:<conv>   a conversation handed to a person (JSON; expires when the pause ends)
//   P:{p}:last:<conv>    when the customer last wrote (Meta's timestamp, unix ms; kept 25 hours
//                        after the last message arrived)
//   P:{pauses}           paused conversations by end (for listing)
//   P:{dl}:order, P:{dl}:data   dead letters by time, and their JSON by wamid
namespace bridge::store::redis_scripts {

// Admission of one delivery's messages, in order (see message_store::admit).
// KEYS: unfinished. ARGV: prefix, capacity, dedupe ttl (s), n, then n × {partition, wamid,
// conversation, answer (1|0), stored value (the m: key's whole value), written (when the customer
// wrote, unix ms; 0: now)}.
// Returns one word per message: stored, kept, dup, full, paused.
const queue::redis::script& admit();

// Claims up to `want` conversations: expired leases first (their messages come back, those whose
// send had begun marked in doubt), then ready ones. ARGV: prefix, owner, lease (ms), want,
// partitions, first partition. Returns claims {conversation, partition, fence, took_over,
// then per message: wamid, stored value, in doubt (1|0)}.
const queue::redis::script& claim();

// Renews this owner's leases. ARGV: prefix, owner, lease (ms), then triples {partition,
// conversation, fence}. Returns 1 (renewed) or 0 (lost) per triple.
const queue::redis::script& renew();

// Records that the send of some held messages begins. ARGV: prefix, partition, conversation,
// owner, fence, wamids... Returns 1, 0 when the lease is lost or expired, 2 when the conversation
// is paused (handed to a person).
const queue::redis::script& begin_send();

// Records that held messages are finished and frees their capacity. KEYS: unfinished.
// ARGV: prefix, partition, conversation, owner, fence, wamids... Returns 1, or 0 when fenced.
const queue::redis::script& finish();

// Gives a conversation back, after finishing the held messages it names as finish does (a
// claim's last batch: one script instead of two): anything still held is waiting again (in doubt
// when its send had begun), and the conversation is ready when messages wait. KEYS: unfinished.
// ARGV: prefix, partition, conversation, owner, fence, wamids to finish (none: only give back).
// Returns 1, or 0 when fenced (then nothing is done).
const queue::redis::script& release();

// Moves what arrived since the claim into the claim. ARGV: prefix, partition, conversation, owner,
// fence. Returns {1, then per message: wamid, stored value, in doubt} or {0} when fenced.
const queue::redis::script& take_more();

// Reserves the next send slot of a business number, shared by every replica (the local pacer's
// virtual-scheduling token bucket, with Redis's clock). KEYS: the number's pace key. ARGV: rate
// (per second), burst. Returns the wait in microseconds.
const queue::redis::script& reserve_send();

// Pauses a conversation (an echo extends a running pause, an operator's sets it); the key expires
// when the pause ends. KEYS: the pause key, the pauses index. ARGV: conversation, pause JSON,
// until (ms), why. Returns the pause in force, as JSON.
const queue::redis::script& pause();

// Keeps a dead letter and drops the oldest beyond max and max_age. KEYS: order, data.
// ARGV: wamid, at (ms), JSON, max, oldest allowed (ms). Returns how many it dropped.
const queue::redis::script& add_dead_letter();

// Queues a dead letter's message again, in the same step as it leaves the dead letters (a second
// replay finds nothing). KEYS: order, data, unfinished. ARGV: wamid, prefix, partition,
// conversation, stored value (the m: key's whole value). Returns 1, or 0 when it was not there.
const queue::redis::script& replay();

}  // namespace bridge::store::redis_scripts
