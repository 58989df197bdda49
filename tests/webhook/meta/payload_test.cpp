#include "webhook/meta/payload.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "webhook/meta/inbound_query.hpp"

namespace {

using namespace bridge::webhook::meta;

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(BRIDGE_FIXTURES_DIR) + "/payloads/" + name, std::ios::binary);
  BOOST_TEST_REQUIRE(in.good(), "fixture " << name << " is readable");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

boost::system::result<delivery> parse(std::string body) {
  return parse_delivery(body);
}

// Parses a fixture that must succeed and carry exactly one message.
inbound_message only_message(const std::string& name) {
  const auto parsed = parse(read_fixture(name));
  BOOST_TEST_REQUIRE(parsed.has_value(), name << ": " << parsed.error().message());
  BOOST_TEST_REQUIRE(parsed->messages.size() == 1u, name);
  BOOST_TEST(parsed->statuses.empty());
  BOOST_TEST(parsed->skipped_messages == 0u);
  BOOST_TEST(parsed->ignored_changes == 0u);
  BOOST_TEST(parsed->value_errors == 0u);
  return parsed->messages.front();
}

// The standard envelope around one value object.
std::string envelope(const std::string& value) {
  return R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":)" +
         value + "}]}]}";
}

// One change value with the usual metadata and the given messages array contents.
std::string with_messages(const std::string& messages) {
  return envelope(
      R"({"messaging_product":"whatsapp","metadata":{"display_phone_number":"1","phone_number_id":"555"},"messages":[)" +
      messages + "]}");
}

const std::string good_message =
    R"({"from":"111","id":"wamid.good","timestamp":"1700000000","type":"text","text":{"body":"ok"}})";

// What a message should become: its disposition and exact query.
struct expected_outcome {
  disposition what;
  std::string query;
};

expected_outcome answered(std::string query) {
  return {disposition::answer, std::move(query)};
}

const expected_outcome unsupported_reply{disposition::unsupported, ""};
const expected_outcome ignored{disposition::ignore, ""};

// Parses one message of the given JSON (inside the standard envelope); it must be kept.
inbound_message one(const std::string& message) {
  const auto parsed = parse(with_messages(message));
  BOOST_TEST_REQUIRE(parsed.has_value(), message);
  BOOST_TEST(parsed->skipped_messages == 0u, message);
  BOOST_TEST_REQUIRE(parsed->messages.size() == 1u, message);
  return parsed->messages.front();
}

// A message from 111 of `type` with extra members (`,"image":{...}`).
inbound_message one_of(const std::string& type, const std::string& members) {
  return one(R"({"from":"111","id":"wamid.t","type":")" + type + "\"" + members + "}");
}

void check(const inbound_message& m, const expected_outcome& expected, const std::string& label) {
  BOOST_TEST((m.disposition == expected.what), label << ": " << to_string(m.disposition));
  BOOST_TEST(m.text == expected.query, label);
}

payload_errc error_of(const boost::system::result<delivery>& parsed) {
  BOOST_TEST_REQUIRE(parsed.has_error());
  BOOST_TEST_REQUIRE((parsed.error().category() == payload_category()));
  return static_cast<payload_errc>(parsed.error().value());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(payload)

BOOST_AUTO_TEST_CASE(every_fixture_parses_and_body_is_left_unchanged) {
  int count = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(BRIDGE_FIXTURES_DIR) + "/payloads")) {
    if (entry.path().extension() != ".json") continue;
    const std::string original = read_fixture(entry.path().filename().string());
    std::string body = original;
    body.shrink_to_fit();  // no spare capacity: the parser has to make room for its padding
    const auto parsed = parse_delivery(body);
    BOOST_TEST(parsed.has_value(), entry.path().filename());
    BOOST_TEST(body == original);
    BOOST_TEST(body.size() == original.size());
    ++count;
  }
  BOOST_TEST(count >= 17);
}

BOOST_AUTO_TEST_CASE(text) {
  const inbound_message m = only_message("text.json");
  BOOST_TEST(m.id == "wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0EwQjU2RjE4NzY1QTJCRkE4QkEA");
  BOOST_TEST(m.phone_number_id == "106540352242922");
  BOOST_TEST(m.customer_id == "919876543210");
  BOOST_TEST(!m.customer_is_username);
  BOOST_TEST(m.profile_name == "Asha Rao");
  BOOST_TEST((m.kind == message_kind::text));
  BOOST_TEST(m.type == "text");
  BOOST_TEST(m.text == "Hi, what are your opening hours?");
  BOOST_TEST((m.disposition == disposition::answer));
  BOOST_TEST(m.timestamp == 1763971200);
  BOOST_TEST(m.context_id.empty());
}

// The parser is reused between deliveries (and dropped after a large one): what one delivery
// left behind must never show in the next, whatever their sizes.
BOOST_AUTO_TEST_CASE(consecutive_deliveries_of_any_size_parse_independently) {
  const std::string big_text(600 * 1024, 'x');
  for (const std::size_t size : {std::size_t{2}, big_text.size(), std::size_t{5}, std::size_t{3}}) {
    const std::string text = big_text.substr(0, size);
    const inbound_message m = one(R"({"from":"111","id":"wamid.)" + std::to_string(size) +
                                  R"(","type":"text","text":{"body":")" + text + R"("}})");
    BOOST_TEST(m.text == text);
    BOOST_TEST(m.id == "wamid." + std::to_string(size));
  }
  BOOST_TEST((error_of(parse(with_messages(R"({"from":"111",)"))) == payload_errc::not_json));
  check(one(good_message), answered("ok"), "after an error");
}

BOOST_AUTO_TEST_CASE(text_reply_with_context) {
  const inbound_message m = only_message("text-reply-context.json");
  BOOST_TEST(m.id == "wamid.ctx1");
  BOOST_TEST((m.kind == message_kind::text));
  BOOST_TEST(m.text == "And on Sundays?");
  BOOST_TEST((m.disposition == disposition::answer));
  BOOST_TEST(m.context_id == "wamid.out.abc");
}

BOOST_AUTO_TEST_CASE(interactive_button_reply) {
  const inbound_message m = only_message("interactive-button-reply.json");
  BOOST_TEST(m.id == "wamid.btn1");
  BOOST_TEST((m.kind == message_kind::interactive));
  BOOST_TEST(m.type == "interactive");
  BOOST_TEST((m.disposition == disposition::answer));
  BOOST_TEST(m.text == "Pricing");
  BOOST_TEST(m.context_id == "wamid.out.menu");
  BOOST_TEST(m.customer_id == "919876543210");
}

BOOST_AUTO_TEST_CASE(interactive_list_reply) {
  const inbound_message m = only_message("interactive-list-reply.json");
  BOOST_TEST(m.id == "wamid.list1");
  BOOST_TEST((m.kind == message_kind::interactive));
  BOOST_TEST((m.disposition == disposition::answer));
  BOOST_TEST(m.text == "Pro plan (For teams up to 50)");
  BOOST_TEST(m.context_id.empty());
}

BOOST_AUTO_TEST_CASE(template_button) {
  const inbound_message m = only_message("button.json");
  BOOST_TEST(m.id == "wamid.tbtn1");
  BOOST_TEST((m.kind == message_kind::button));
  BOOST_TEST(m.type == "button");
  BOOST_TEST((m.disposition == disposition::answer));
  BOOST_TEST(m.text == "Yes, book it");
}

BOOST_AUTO_TEST_CASE(images) {
  const inbound_message with_caption = only_message("image-caption.json");
  BOOST_TEST(with_caption.id == "wamid.img1");
  BOOST_TEST((with_caption.kind == message_kind::image));
  BOOST_TEST((with_caption.disposition == disposition::answer));
  BOOST_TEST(with_caption.text == "Is this model in stock?\n[The customer attached an image]");
  const inbound_message without_caption = only_message("image-no-caption.json");
  BOOST_TEST(without_caption.id == "wamid.img2");
  BOOST_TEST((without_caption.kind == message_kind::image));
  BOOST_TEST((without_caption.disposition == disposition::unsupported));
  BOOST_TEST(without_caption.text.empty());
}

BOOST_AUTO_TEST_CASE(audio_voice_note) {
  const inbound_message m = only_message("audio-voice.json");
  BOOST_TEST(m.id == "wamid.aud1");
  BOOST_TEST((m.kind == message_kind::audio));
  BOOST_TEST((m.disposition == disposition::unsupported));
  BOOST_TEST(m.text.empty());
}

BOOST_AUTO_TEST_CASE(location) {
  const inbound_message m = only_message("location.json");
  BOOST_TEST(m.id == "wamid.loc1");
  BOOST_TEST((m.kind == message_kind::location));
  BOOST_TEST(m.profile_name == "Asha Rao");
  BOOST_TEST((m.disposition == disposition::answer));
  BOOST_TEST(
      m.text ==
      "[The customer shared a location: MG Road Metro, MG Road, Bengaluru (12.9716, 77.5946)]");
}

BOOST_AUTO_TEST_CASE(shared_contacts_do_not_confuse_the_sender) {
  const inbound_message m = only_message("contacts.json");
  BOOST_TEST(m.id == "wamid.cnt1");
  BOOST_TEST((m.kind == message_kind::contacts));
  BOOST_TEST(m.customer_id == "919876543210");
  BOOST_TEST(m.profile_name == "Asha Rao");
  BOOST_TEST((m.disposition == disposition::answer));
  BOOST_TEST(m.text == "[The customer shared a contact: Ravi Kumar, +91 98450 12345]");
}

BOOST_AUTO_TEST_CASE(reaction) {
  const inbound_message m = only_message("reaction.json");
  BOOST_TEST(m.id == "wamid.rct1");
  BOOST_TEST((m.kind == message_kind::reaction));
  BOOST_TEST(m.type == "reaction");
  BOOST_TEST((m.disposition == disposition::ignore));
  BOOST_TEST(m.text.empty());
}

BOOST_AUTO_TEST_CASE(unsupported) {
  const inbound_message m = only_message("unsupported.json");
  BOOST_TEST(m.id == "wamid.uns1");
  BOOST_TEST((m.kind == message_kind::unsupported));
  BOOST_TEST((m.disposition == disposition::ignore));
  BOOST_TEST(m.text.empty());
}

BOOST_AUTO_TEST_CASE(username_customer) {
  const inbound_message m = only_message("username-user.json");
  BOOST_TEST(m.id == "wamid.bsuid1");
  BOOST_TEST(m.customer_id == "IN.13491208655302741918");
  BOOST_TEST(m.customer_is_username);
  BOOST_TEST(m.profile_name == "kiran");
  BOOST_TEST(m.text == "Hello from a username account");
  BOOST_TEST((m.disposition == disposition::answer));
  BOOST_TEST(m.timestamp == 1763971260);
}

BOOST_AUTO_TEST_CASE(statuses) {
  const auto parsed = parse(read_fixture("statuses.json"));
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->messages.empty());
  BOOST_TEST(parsed->skipped_messages == 0u);
  BOOST_TEST_REQUIRE(parsed->statuses.size() == 4u);
  const char* const expected[] = {"sent", "delivered", "read", "failed"};
  for (std::size_t i = 0; i < 4; ++i) {
    BOOST_TEST(parsed->statuses[i].status == expected[i]);
    BOOST_TEST(parsed->statuses[i].phone_number_id == "106540352242922");
  }
  BOOST_TEST(parsed->statuses[0].id == "wamid.out.1");
  BOOST_TEST(parsed->statuses[0].recipient_id == "919876543210");
  BOOST_TEST(parsed->statuses[0].error_code == 0);
  const status_update& failed = parsed->statuses[3];
  BOOST_TEST(failed.id == "wamid.out.2");
  BOOST_TEST(failed.recipient_id == "919812345678");
  BOOST_TEST(failed.error_code == 131047);
  BOOST_TEST(failed.error_title == "Re-engagement message");
}

BOOST_AUTO_TEST_CASE(batch_in_wire_order) {
  const auto parsed = parse(read_fixture("batch-2-entries-2-changes.json"));
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST_REQUIRE(parsed->messages.size() == 12u);
  BOOST_TEST(parsed->skipped_messages == 0u);
  std::size_t index = 0;
  for (int entry = 0; entry < 2; ++entry) {
    for (int change = 0; change < 2; ++change) {
      for (int message = 0; message < 3; ++message) {
        const inbound_message& m = parsed->messages[index++];
        const std::string from = "9198000" + std::to_string(entry) + std::to_string(change) + "00" +
                                 std::to_string(message);
        BOOST_TEST(m.id == "wamid.batch." + std::to_string(entry) + "." + std::to_string(change) +
                               "." + std::to_string(message));
        BOOST_TEST(m.phone_number_id == (change == 0 ? "106540352242922" : "106540352242933"));
        BOOST_TEST(m.customer_id == from);
        BOOST_TEST(m.profile_name == "User " + from);
        BOOST_TEST(m.text == "message " + std::to_string(message) + " from " + from);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(unicode_and_escapes_round_trip) {
  const inbound_message m = only_message("extra-unicode-escapes.json");
  BOOST_TEST(m.text ==
             "Caf\xC3\xA9 \xE2\x80\x94 5/7? \xF0\x9F\x98\x80 \"quoted\" back\\slash\nline 2\t"
             "\xE4\xBD\xA0\xE5\xA5\xBD\xE3\x80\x82");
  BOOST_TEST(m.profile_name == "Jos\xC3\xA9 \xE5\xBC\xA0\xE4\xBC\x9F");
  BOOST_TEST(m.customer_id == "5215512345678");
}

BOOST_AUTO_TEST_CASE(escaped_keys_are_recognised) {
  const auto parsed = parse(with_messages(
      R"({"\u0066rom":"111","id":"wamid.k","type":"text","text":{"\u0062ody":"\u00e9"}})"));
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST_REQUIRE(parsed->messages.size() == 1u);
  BOOST_TEST(parsed->messages[0].customer_id == "111");
  BOOST_TEST(parsed->messages[0].text == "\xC3\xA9");
}

BOOST_AUTO_TEST_CASE(mixed_batch_skips_only_unanswerable_messages) {
  const auto parsed = parse(read_fixture("extra-mixed-skips.json"));
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST_REQUIRE(parsed->messages.size() == 3u);
  BOOST_TEST(parsed->messages[0].id == "wamid.mix1");
  BOOST_TEST(parsed->messages[1].id == "wamid.mix4");
  BOOST_TEST(parsed->messages[1].customer_id == "919811111111");  // a phone number wins
  BOOST_TEST(!parsed->messages[1].customer_is_username);
  BOOST_TEST(parsed->messages[1].profile_name == "Both Ids");
  BOOST_TEST(parsed->messages[2].id == "wamid.mix5");  // "field" after "value", metadata last
  BOOST_TEST(parsed->messages[2].phone_number_id == "106540352242933");
  BOOST_TEST(parsed->messages[2].profile_name.empty());
  BOOST_TEST(parsed->skipped_messages == 2u);
  BOOST_TEST(parsed->ignored_changes == 1u);
  BOOST_TEST(parsed->value_errors == 1u);
}

BOOST_AUTO_TEST_CASE(missing_fields_skip_the_message) {
  const auto no_from =
      parse(with_messages(R"({"id":"wamid.1","type":"text","text":{"body":"x"}},)" + good_message));
  BOOST_TEST_REQUIRE(no_from.has_value());
  BOOST_TEST(no_from->skipped_messages == 1u);
  BOOST_TEST_REQUIRE(no_from->messages.size() == 1u);
  BOOST_TEST(no_from->messages[0].id == "wamid.good");

  const auto no_id = parse(with_messages(R"({"from":"111","type":"text"},)" + good_message));
  BOOST_TEST_REQUIRE(no_id.has_value());
  BOOST_TEST(no_id->skipped_messages == 1u);
  BOOST_TEST(no_id->messages.size() == 1u);

  const auto empty_id = parse(with_messages(R"({"from":"111","id":"","type":"text"})"));
  BOOST_TEST_REQUIRE(empty_id.has_value());
  BOOST_TEST(empty_id->skipped_messages == 1u);

  const auto no_metadata =
      parse(envelope(R"({"messages":[)" + good_message + "," + good_message + "]}"));
  BOOST_TEST_REQUIRE(no_metadata.has_value());
  BOOST_TEST(no_metadata->messages.empty());
  BOOST_TEST(no_metadata->skipped_messages == 2u);

  const auto no_number = parse(
      envelope(R"({"metadata":{"display_phone_number":"1"},"messages":[)" + good_message + "]}"));
  BOOST_TEST_REQUIRE(no_number.has_value());
  BOOST_TEST(no_number->skipped_messages == 1u);
}

BOOST_AUTO_TEST_CASE(optional_fields_may_be_absent) {
  const auto parsed = parse(with_messages(R"({"from":"111","id":"wamid.min"})"));
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST_REQUIRE(parsed->messages.size() == 1u);
  const inbound_message& m = parsed->messages[0];
  BOOST_TEST((m.kind == message_kind::unknown));
  BOOST_TEST((m.disposition == disposition::ignore));
  BOOST_TEST(m.type.empty());
  BOOST_TEST(m.timestamp == 0);
  BOOST_TEST(m.profile_name.empty());
}

BOOST_AUTO_TEST_CASE(wrong_types_skip_only_that_message) {
  const std::string bad_messages[] = {
      R"({"from":111,"id":"wamid.1","type":"text","text":{"body":"x"}})",
      R"({"from":"111","id":null,"type":"text","text":{"body":"x"}})",
      R"({"from":"111","id":["wamid.1"],"type":"text"})",
      R"({"from":"111","id":"wamid.1","type":7})",
      R"({"from":"111","id":"wamid.1","type":"text","text":"x"})",
      R"({"from":"111","id":"wamid.1","type":"text","text":{"body":5}})",
      R"({"from":"111","id":"wamid.1","type":"text","context":"wamid.0"})",
      R"({"from":"111","id":"wamid.1","type":"text","context":{"id":{}}})",
      R"({"from_user_id":true,"id":"wamid.1","type":"text"})",
      R"(42)",
      R"("a message")",
      R"(null)",
      R"([])",
  };
  for (const std::string& bad : bad_messages) {
    const auto parsed = parse(with_messages(bad + "," + good_message));
    BOOST_TEST_REQUIRE(parsed.has_value(), bad);
    BOOST_TEST(parsed->skipped_messages == 1u, bad);
    BOOST_TEST_REQUIRE(parsed->messages.size() == 1u, bad);
    BOOST_TEST(parsed->messages[0].id == "wamid.good");
  }
}

BOOST_AUTO_TEST_CASE(bad_timestamp_reads_as_zero) {
  const std::string cases[][2] = {{R"("abc")", "0"},
                                  {R"("12x")", "0"},
                                  {R"("-5")", "0"},
                                  {R"("")", "0"},
                                  {R"(true)", "0"},
                                  {R"(1763971200)", "1763971200"},
                                  {R"("1763971200")", "1763971200"}};
  for (const auto& [wire, expected] : cases) {
    const auto parsed = parse(with_messages(R"({"from":"1","id":"w","timestamp":)" + wire + "}"));
    BOOST_TEST_REQUIRE(parsed.has_value(), wire);
    BOOST_TEST_REQUIRE(parsed->messages.size() == 1u, wire);
    BOOST_TEST(std::to_string(parsed->messages[0].timestamp) == expected, wire);
  }
}

BOOST_AUTO_TEST_CASE(wrong_container_types_are_tolerated) {
  const auto messages_object =
      parse(envelope(R"({"metadata":{"phone_number_id":"5"},"messages":{"from":"1","id":"w"}})"));
  BOOST_TEST_REQUIRE(messages_object.has_value());
  BOOST_TEST(messages_object->messages.empty());
  BOOST_TEST(messages_object->skipped_messages == 1u);

  const auto contacts_string = parse(envelope(
      R"({"metadata":{"phone_number_id":"5"},"contacts":"x","messages":[)" + good_message + "]}"));
  BOOST_TEST_REQUIRE(contacts_string.has_value());
  BOOST_TEST_REQUIRE(contacts_string->messages.size() == 1u);
  BOOST_TEST(contacts_string->messages[0].profile_name.empty());

  const auto bad_contact = parse(envelope(
      R"({"metadata":{"phone_number_id":"5"},"contacts":[7,{"profile":"x","wa_id":"111"},{"profile":{"name":"N"},"wa_id":"111"}],"messages":[)" +
      good_message + "]}"));
  BOOST_TEST_REQUIRE(bad_contact.has_value());
  BOOST_TEST_REQUIRE(bad_contact->messages.size() == 1u);
  BOOST_TEST(bad_contact->messages[0].profile_name == "N");

  const auto value_string = parse(envelope(R"("value")"));
  BOOST_TEST_REQUIRE(value_string.has_value());
  BOOST_TEST(value_string->ignored_changes == 1u);

  const auto entry_object =
      parse(R"({"object":"whatsapp_business_account","entry":{"changes":[]}})");
  BOOST_TEST_REQUIRE(entry_object.has_value());
  BOOST_TEST(entry_object->messages.empty());

  const auto changes_number =
      parse(R"({"object":"whatsapp_business_account","entry":[{"changes":3},"x"]})");
  BOOST_TEST_REQUIRE(changes_number.has_value());
  BOOST_TEST(changes_number->ignored_changes == 2u);
}

BOOST_AUTO_TEST_CASE(other_fields_are_ignored_changes) {
  const auto parsed = parse(
      R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[)"
      R"({"field":"message_template_status_update","value":{"event":"APPROVED","messages":[1,2]}},)"
      R"({"value":{"messages":[{"from":"1","id":"w"}],"metadata":{"phone_number_id":"5"}},"field":"account_alerts"},)"
      R"({"value":{"metadata":{"phone_number_id":"5"}}},)"
      R"({"field":"messages","value":{"metadata":{"phone_number_id":"5"},"messages":[{"from":"1","id":"kept"}]}}]}]})");
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->ignored_changes == 3u);
  BOOST_TEST(parsed->skipped_messages == 0u);
  BOOST_TEST_REQUIRE(parsed->messages.size() == 1u);
  BOOST_TEST(parsed->messages[0].id == "kept");
}

BOOST_AUTO_TEST_CASE(value_errors_are_counted) {
  const auto parsed = parse(envelope(
      R"({"metadata":{"phone_number_id":"5"},"errors":[{"code":131000},{"code":131051}]})"));
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->value_errors == 2u);
  BOOST_TEST(parsed->messages.empty());
}

BOOST_AUTO_TEST_CASE(status_of_username_recipient) {
  const auto parsed = parse(envelope(
      R"({"metadata":{"phone_number_id":"5"},"statuses":[{"id":"wamid.s","status":"read","recipient_user_id":"US.1"},{"status":"sent"},{"id":"wamid.t","status":"failed","recipient_id":"1","errors":"x"}]})"));
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST_REQUIRE(parsed->statuses.size() == 1u);
  BOOST_TEST(parsed->statuses[0].recipient_id == "US.1");
  BOOST_TEST(parsed->statuses[0].phone_number_id == "5");
}

BOOST_AUTO_TEST_CASE(empty_and_missing_entries) {
  for (const char* body : {R"({"object":"whatsapp_business_account","entry":[]})",
                           R"({"object":"whatsapp_business_account"})",
                           R"({"entry":[],"object":"whatsapp_business_account"})",
                           " \n{\"object\":\"whatsapp_business_account\",\"entry\":[{}]} \r\n"}) {
    const auto parsed = parse(body);
    BOOST_TEST_REQUIRE(parsed.has_value(), body);
    BOOST_TEST(parsed->messages.empty());
    BOOST_TEST(parsed->statuses.empty());
    BOOST_TEST(parsed->skipped_messages == 0u);
  }
}

BOOST_AUTO_TEST_CASE(not_json) {
  const std::string text = read_fixture("text.json");
  const std::string bodies[] = {
      "",
      "   ",
      "not json",
      "{",
      "{\"object\":\"whatsapp_business_account\",\"entry\":[}",
      "{\"object\":\"whatsapp_business_account\"} trailing",
      "{\"object\":\"whatsapp_business_account\"}}",
      "{\"object\":\"whatsapp_business_account\"}{}",
      "{\"object\":\"whatsapp_\xff\"}",  // invalid UTF-8
      "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"field\":\"messages\","
      "\"value\":{\"messages\":[{\"from\":\"1\",\"id\":\"w\"]}}]}]}",  // ] closes an object
      text.substr(0, text.size() / 2),
      text.substr(0, text.size() - 1),
  };
  for (const std::string& body : bodies) {
    const auto parsed = parse(body);
    BOOST_TEST_REQUIRE(parsed.has_error(), body);
    BOOST_TEST((error_of(parsed) == payload_errc::not_json), body);
  }
}

BOOST_AUTO_TEST_CASE(not_an_object) {
  for (const char* body : {"[]", R"([{"object":"whatsapp_business_account","entry":[]}])", "42",
                           R"("whatsapp_business_account")", "null", "true"}) {
    BOOST_TEST((error_of(parse(body)) == payload_errc::not_an_object), body);
  }
}

BOOST_AUTO_TEST_CASE(wrong_object) {
  for (const char* body :
       {R"({"object":"page","entry":[]})", R"({"object":"instagram"})", R"({"entry":[]})", R"({})",
        R"({"object":42,"entry":[]})", R"({"object":"WHATSAPP_BUSINESS_ACCOUNT"})"}) {
    BOOST_TEST((error_of(parse(body)) == payload_errc::not_whatsapp), body);
  }
  // A different product's body is refused even when it holds WhatsApp-shaped messages.
  std::string body = read_fixture("text.json");
  body.replace(body.find("whatsapp_business_account"), 25, "page");
  BOOST_TEST((error_of(parse(body)) == payload_errc::not_whatsapp));
}

BOOST_AUTO_TEST_CASE(deep_nesting) {
  const auto nested = [](std::size_t arrays) {
    return R"({"object":"whatsapp_business_account","entry":[],"x":)" + std::string(arrays, '[') +
           std::string(arrays, ']') + "}";
  };
  // The root object is one level: 63 arrays make 64, the limit.
  BOOST_TEST(parse(nested(max_nesting_depth - 1)).has_value());
  BOOST_TEST((error_of(parse(nested(max_nesting_depth))) == payload_errc::too_deep));
  BOOST_TEST((error_of(parse(nested(100000))) == payload_errc::too_deep));
  BOOST_TEST((error_of(parse(std::string(100000, '{'))) == payload_errc::too_deep));
  // Brackets inside strings (escaped quotes included) are text, not nesting.
  const std::string in_string =
      R"({"object":"whatsapp_business_account","x":"\"\\)" + std::string(200, '[') + R"("})";
  BOOST_TEST(parse(in_string).has_value());
}

BOOST_AUTO_TEST_CASE(error_category) {
  const boost::system::error_code ec = make_error_code(payload_errc::too_deep);
  BOOST_TEST(std::string(ec.category().name()) == "bridge.webhook.payload");
  BOOST_TEST(!ec.message().empty());
  BOOST_TEST((ec == payload_errc::too_deep));
  BOOST_TEST((ec != payload_errc::not_json));
  const boost::system::error_code implicit = payload_errc::not_json;
  BOOST_TEST(implicit.value() == 1);
  for (int v = 1; v <= 5; ++v) {
    BOOST_TEST(make_error_code(static_cast<payload_errc>(v)).message() != "unknown payload error");
  }
}

BOOST_AUTO_TEST_CASE(kind_names_round_trip) {
  for (int i = 0; i <= static_cast<int>(message_kind::unknown); ++i) {
    const auto kind = static_cast<message_kind>(i);
    BOOST_TEST((kind_from_type(to_string(kind)) == kind), to_string(kind));
  }
  BOOST_TEST(to_string(message_kind::request_welcome) == "request_welcome");
  BOOST_TEST((kind_from_type("poll") == message_kind::unknown));
  BOOST_TEST((kind_from_type("") == message_kind::unknown));
  BOOST_TEST((kind_from_type("TEXT") == message_kind::unknown));
}

BOOST_AUTO_TEST_CASE(thousand_messages_with_shuffled_contacts) {
  constexpr int count = 1000;
  std::vector<std::string> contacts;
  std::string messages;
  for (int i = 0; i < count; ++i) {
    const std::string from = "91" + std::to_string(7000000000 + i);
    contacts.push_back(R"({"profile":{"name":"Name )" + std::to_string(i) + R"("},"wa_id":")" +
                       from + R"("})");
    if (i > 0) messages += ',';
    messages += R"({"from":")" + from + R"(","id":"wamid.)" + std::to_string(i) +
                R"(","timestamp":"1763971200","type":"text","text":{"body":")" +
                std::string(3000, 'x') + R"("}})";
  }
  std::shuffle(contacts.begin(), contacts.end(), std::mt19937(42));
  std::string contact_list;
  for (const std::string& contact : contacts) {
    if (!contact_list.empty()) contact_list += ',';
    contact_list += contact;
  }
  std::string body = envelope(R"({"metadata":{"phone_number_id":"5"},"contacts":[)" + contact_list +
                              R"(],"messages":[)" + messages + "]}");
  BOOST_TEST(body.size() > 3'000'000u);
  const auto parsed = parse_delivery(body);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST_REQUIRE(parsed->messages.size() == static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const inbound_message& m = parsed->messages[static_cast<std::size_t>(i)];
    BOOST_TEST_REQUIRE(m.id == "wamid." + std::to_string(i));
    BOOST_TEST_REQUIRE(m.profile_name == "Name " + std::to_string(i));
    BOOST_TEST_REQUIRE(m.text.size() == 3000u);
  }
}

BOOST_AUTO_TEST_CASE(spare_capacity_is_used_in_place) {
  std::string body = read_fixture("text.json");
  body.reserve(body.size() + 1024);
  const char* const before = body.data();
  const std::string original = body;
  BOOST_TEST(parse_delivery(body).has_value());
  BOOST_TEST(body.data() == before);  // no copy, no reallocation
  BOOST_TEST(body == original);
}

// --- dispositions ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(every_fixture_has_a_defined_outcome) {
  std::map<std::string, std::vector<expected_outcome>> table = {
      {"audio-voice.json", {unsupported_reply}},
      {"button.json", {answered("Yes, book it")}},
      {"contacts.json", {answered("[The customer shared a contact: Ravi Kumar, +91 98450 12345]")}},
      {"extra-contacts-two.json",
       {answered("[The customer shared 2 contacts: Ravi Kumar, +91 98450 12345, +91 80 4123 4567; "
                 "Meena Iyer, 919812300000]")}},
      {"extra-document-caption.json",
       {answered("Please check the total\n[The customer attached a document: invoice.pdf]")}},
      {"extra-edit.json", {ignored}},
      {"extra-image-reply-context.json",
       {answered("This one, in size M\n[The customer attached an image]")}},
      {"extra-list-reply-no-description.json", {answered("Basic plan")}},
      {"extra-location-coordinates-only.json",
       {answered("[The customer shared a location: -33.8688, 151.2093]")}},
      {"extra-mixed-skips.json",
       {answered("first"), answered("phone and username"), answered("metadata comes last")}},
      {"extra-nfm-reply.json",
       {answered("[The customer submitted a form]\nname: Asha Rao\nplan: Pro\nseats: 25\n"
                 "newsletter: yes\ntopics: billing, onboarding\n"
                 "notes: Call after 5 \xE2\x80\x94 thanks")}},
      {"extra-order.json", {ignored}},
      {"extra-request-welcome.json", {ignored}},
      {"extra-revoke.json", {ignored}},
      {"extra-sticker.json", {unsupported_reply}},
      {"extra-system.json", {ignored}},
      {"extra-unicode-escapes.json",
       {answered("Caf\xC3\xA9 \xE2\x80\x94 5/7? \xF0\x9F\x98\x80 \"quoted\" back\\slash\nline 2\t"
                 "\xE4\xBD\xA0\xE5\xA5\xBD\xE3\x80\x82")}},
      {"extra-username-image-caption.json",
       {answered("Is this available?\n[The customer attached an image]")}},
      {"extra-video-caption.json",
       {answered("Does this come in blue?\n[The customer attached a video]")}},
      {"image-caption.json",
       {answered("Is this model in stock?\n[The customer attached an image]")}},
      {"image-no-caption.json", {unsupported_reply}},
      {"interactive-button-reply.json", {answered("Pricing")}},
      {"interactive-list-reply.json", {answered("Pro plan (For teams up to 50)")}},
      {"location.json",
       {answered("[The customer shared a location: MG Road Metro, MG Road, Bengaluru "
                 "(12.9716, 77.5946)]")}},
      {"reaction.json", {ignored}},
      {"statuses.json", {}},
      {"text-reply-context.json", {answered("And on Sundays?")}},
      {"text.json", {answered("Hi, what are your opening hours?")}},
      {"text-ad-referral.json",
       {answered("Is the floor lamp still on sale?\n[The customer came from an ad: \"Spring sale: "
                 "30% off lamps\" https://fb.me/3cr4Wqqkv]")}},
      {"smb-message-echoes.json", {}},
      {"unsupported.json", {ignored}},
      {"username-user.json", {answered("Hello from a username account")}},
  };
  std::vector<expected_outcome>& batch = table["batch-2-entries-2-changes.json"];
  for (int entry = 0; entry < 2; ++entry) {
    for (int change = 0; change < 2; ++change) {
      for (int message = 0; message < 3; ++message) {
        batch.push_back(answered("message " + std::to_string(message) + " from 9198000" +
                                 std::to_string(entry) + std::to_string(change) + "00" +
                                 std::to_string(message)));
      }
    }
  }

  std::size_t seen = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(BRIDGE_FIXTURES_DIR) + "/payloads")) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".json") continue;
    const auto expected = table.find(name);
    BOOST_TEST_REQUIRE((expected != table.end()), name << " has no expected outcome");
    ++seen;
    const auto parsed = parse(read_fixture(name));
    BOOST_TEST_REQUIRE(parsed.has_value(), name);
    BOOST_TEST_REQUIRE(parsed->messages.size() == expected->second.size(), name);
    for (std::size_t i = 0; i < expected->second.size(); ++i) {
      check(parsed->messages[i], expected->second[i], name + " #" + std::to_string(i));
    }
  }
  BOOST_TEST(seen == table.size());
}

BOOST_AUTO_TEST_CASE(new_fixture_kinds) {
  const std::pair<const char*, message_kind> cases[] = {
      {"extra-video-caption.json", message_kind::video},
      {"extra-document-caption.json", message_kind::document},
      {"extra-sticker.json", message_kind::sticker},
      {"extra-edit.json", message_kind::edit},
      {"extra-revoke.json", message_kind::revoke},
      {"extra-order.json", message_kind::order},
      {"extra-system.json", message_kind::system},
      {"extra-request-welcome.json", message_kind::request_welcome},
      {"extra-nfm-reply.json", message_kind::interactive},
      {"extra-list-reply-no-description.json", message_kind::interactive},
      {"extra-location-coordinates-only.json", message_kind::location},
      {"extra-contacts-two.json", message_kind::contacts},
  };
  for (const auto& [name, kind] : cases) {
    const inbound_message m = only_message(name);
    BOOST_TEST((m.kind == kind), name);
    BOOST_TEST(m.customer_id == "919876543210", name);
    BOOST_TEST(!m.customer_is_username, name);
    BOOST_TEST(m.profile_name == "Asha Rao", name);
  }
  // An edit carries the new text inside it: it must not leak out as a question.
  const inbound_message edit = only_message("extra-edit.json");
  BOOST_TEST(edit.text.empty());
  BOOST_TEST(edit.context_id.empty());
  BOOST_TEST(only_message("extra-nfm-reply.json").context_id == "wamid.out.flow");
}

BOOST_AUTO_TEST_CASE(reply_to_an_image_keeps_its_context) {
  const inbound_message m = only_message("extra-image-reply-context.json");
  BOOST_TEST(m.id == "wamid.img3");
  BOOST_TEST((m.kind == message_kind::image));
  BOOST_TEST((m.disposition == disposition::answer));
  BOOST_TEST(m.context_id == "wamid.out.catalog");
}

BOOST_AUTO_TEST_CASE(username_customer_sends_an_image) {
  const inbound_message m = only_message("extra-username-image-caption.json");
  BOOST_TEST(m.id == "wamid.bsuid2");
  BOOST_TEST(m.customer_id == "IN.13491208655302741918");
  BOOST_TEST(m.customer_is_username);
  BOOST_TEST(m.profile_name == "kiran");
  BOOST_TEST((m.kind == message_kind::image));
  BOOST_TEST((m.disposition == disposition::answer));
}

BOOST_AUTO_TEST_CASE(customer_is_username_whatever_the_type) {
  const std::string contents[] = {
      R"("type":"text","text":{"body":"hi"})",
      R"("type":"image","image":{"caption":"c"})",
      R"("type":"image","image":{"id":"1"})",
      R"("type":"sticker","sticker":{"id":"1"})",
      R"("type":"location","location":{"latitude":1,"longitude":2})",
      R"("type":"contacts","contacts":[{"name":{"formatted_name":"R"}}])",
      R"("type":"interactive","interactive":{"type":"button_reply","button_reply":{"title":"T"}})",
      R"("type":"button","button":{"text":"T"})",
      R"("type":"reaction","reaction":{"message_id":"w","emoji":"x"})",
      R"("type":"revoke","revoke":{"original_message_id":"w"})",
      R"("type":"system","system":{"body":"changed"})",
  };
  for (const std::string& content : contents) {
    const inbound_message username =
        one(R"({"from_user_id":"US.42","id":"wamid.u",)" + content + "}");
    BOOST_TEST(username.customer_is_username, content);
    BOOST_TEST(username.customer_id == "US.42", content);
    const inbound_message phone = one(R"({"from":"919800000000","id":"wamid.p",)" + content + "}");
    BOOST_TEST(!phone.customer_is_username, content);
    BOOST_TEST(phone.customer_id == "919800000000", content);
    BOOST_TEST((username.disposition == phone.disposition), content);
    BOOST_TEST(username.text == phone.text, content);
  }
}

BOOST_AUTO_TEST_CASE(coordinates_as_numbers_or_strings) {
  const std::pair<std::string, std::string> cases[] = {
      {R"("latitude":12.9716,"longitude":77.5946)", "12.9716, 77.5946"},
      {R"("latitude":"12.9716","longitude":"77.5946")", "12.9716, 77.5946"},
      {R"("longitude":77.59460,"latitude":1.29716e1)", "12.9716, 77.5946"},
      {R"("latitude":-0.0,"longitude":0)", "0, 0"},
      {R"("latitude":" -33.8688 ","longitude":"+151.2093")", "-33.8688, 151.2093"},
      {R"("latitude":28,"longitude":"77")", "28, 77"},
  };
  for (const auto& [wire, text] : cases) {
    check(one_of("location", R"(,"location":{)" + wire + "}"),
          answered("[The customer shared a location: " + text + "]"), wire);
  }
  // Unusable coordinates are left out; with nothing else to say the location is unsupported.
  const std::string unusable[] = {
      R"("latitude":"north","longitude":77.5946)",
      R"("latitude":true,"longitude":77.5946)",
      R"("latitude":91,"longitude":77.5946)",
      R"("latitude":12.9716,"longitude":-180.5)",
      R"("latitude":12.9716)",
      R"("latitude":1e999,"longitude":1)",
      R"("latitude":[1],"longitude":{"v":2})",
      R"("latitude":null,"longitude":null)",
  };
  for (const std::string& wire : unusable) {
    check(one_of("location", R"(,"location":{)" + wire + "}"), unsupported_reply, wire);
    check(one_of("location", R"(,"location":{"name":"Home",)" + wire + "}"),
          answered("[The customer shared a location: Home]"), wire);
  }
}

BOOST_AUTO_TEST_CASE(content_of_the_wrong_type_reads_as_absent) {
  const std::pair<std::string, expected_outcome> cases[] = {
      {R"("type":"image","image":{"caption":5})", unsupported_reply},
      {R"("type":"image","image":"a picture")", unsupported_reply},
      {R"("type":"document","document":{"caption":"c","filename":["a.pdf"]})",
       answered("c\n[The customer attached a document]")},
      {R"("type":"interactive","interactive":"x")", ignored},
      {R"("type":"interactive","interactive":{"type":7,"button_reply":{"title":"T"}})", ignored},
      {R"("type":"interactive","interactive":{"type":"button_reply","button_reply":[]})",
       unsupported_reply},
      {R"("type":"button","button":{"text":7,"payload":"P"})", answered("P")},
      {R"("type":"button","button":null)", unsupported_reply},
      {R"("type":"location","location":[])", unsupported_reply},
      {R"("type":"location","location":{"name":{},"address":"Main St"})",
       answered("[The customer shared a location: Main St]")},
      {R"("type":"contacts","contacts":{"name":{"formatted_name":"R"}})", unsupported_reply},
      {R"("type":"contacts","contacts":[1,"x",{"name":"R","phones":"1"},{"phones":[7,{"phone":8}]}])",
       unsupported_reply},
      {R"("type":"contacts","contacts":[{"phones":[{"phone":" ","wa_id":"9198"}]},{"name":{}}])",
       answered("[The customer shared a contact: 9198]")},
  };
  for (const auto& [content, expected] : cases) {
    check(one(R"({"from":"111","id":"wamid.w",)" + content + "}"), expected, content);
  }
}

BOOST_AUTO_TEST_CASE(only_the_content_of_the_own_type_counts) {
  // Keys may come in any order; other types' content is read but never used.
  check(
      one(R"({"image":{"caption":"c"},"text":{"body":"the text"},"from":"1","id":"w","type":"text"})"),
      answered("the text"), "text");
  check(one(R"({"from":"1","id":"w","text":{"body":"t"},"video":{"caption":"v"},"type":"image"})"),
        unsupported_reply, "image without its own caption");
  check(one(R"({"from":"1","id":"w","location":{"name":"x"},"type":"reaction","reaction":{}})"),
        ignored, "reaction");
  check(one(R"({"from":"1","id":"w","type":"text"})"), ignored, "text without a body");
  check(one(R"({"from":"1","id":"w","type":"text","text":{"body":""}})"), ignored, "empty body");
}

BOOST_AUTO_TEST_CASE(interactive_subtypes) {
  const std::pair<std::string, expected_outcome> cases[] = {
      {R"({"type":"button_reply","button_reply":{"id":"pricing"}})", answered("pricing")},
      {R"({"button_reply":{"title":"T"}})", ignored},  // no subtype: never guessed
      {R"({"type":"call_permission_reply","call_permission_reply":{"response":"accept"}})",
       ignored},
      {R"({"type":"list_reply","list_reply":{"id":"p","title":"Pro","description":""}})",
       answered("Pro")},
      {R"({"type":"nfm_reply","nfm_reply":{"body":"Sent","response_json":"not json"}})",
       answered("Sent")},
      {R"({"type":"nfm_reply","nfm_reply":{"body":"Sent","response_json":{"a":"b"}}})",
       answered("Sent")},
      {R"({"type":"nfm_reply","nfm_reply":{"response_json":"{\"flow_token\":\"t\"}"}})",
       unsupported_reply},
      {R"({"type":"nfm_reply","nfm_reply":{"response_json":"{\"a\\u00e9\":\"\\\"q\\\"\"}"}})",
       answered("[The customer submitted a form]\na\xC3\xA9: \"q\"")},
  };
  for (const auto& [interactive, expected] : cases) {
    check(one_of("interactive", R"(,"interactive":)" + interactive), expected, interactive);
  }
  // A large form answers with the body the customer saw.
  const std::string big = R"({\"notes\":\")" + std::string(max_form_json_bytes, 'x') + R"(\"})";
  check(
      one_of("interactive",
             R"(,"interactive":{"type":"nfm_reply","nfm_reply":{"body":"Sent","response_json":")" +
                 big + R"("}})"),
      answered("Sent"), "large form");
}

BOOST_AUTO_TEST_CASE(escapes_in_content_are_unescaped) {
  check(one_of("image", R"(,"image":{"caption":"Caf\u00e9 \"A\/B\"\n\ud83d\ude00"})"),
        answered("Caf\xC3\xA9 \"A/B\"\n\xF0\x9F\x98\x80\n[The customer attached an image]"),
        "caption");
  check(one_of("document", R"(,"document":{"caption":"c","filename":"a\\b\/c.pdf"})"),
        answered("c\n[The customer attached a document: a\\b/c.pdf]"), "filename");
  check(
      one_of(
          "contacts",
          R"(,"contacts":[{"name":{"formatted_name":"Jos\u00e9"},"phones":[{"phone":"+52 1"}]}])"),
      answered("[The customer shared a contact: Jos\xC3\xA9, +52 1]"), "contact");
}

BOOST_AUTO_TEST_CASE(forwarded_markers_change_nothing) {
  for (const char* context : {R"({"forwarded":true})", R"({"frequently_forwarded":true})",
                              R"({"forwarded":true,"from":"1","id":"wamid.q"})"}) {
    const inbound_message m =
        one(R"({"from":"1","id":"w","type":"text","text":{"body":"hi"},"context":)" +
            std::string(context) + "}");
    check(m, answered("hi"), context);
  }
  BOOST_TEST(one(R"({"from":"1","id":"w","type":"text","text":{"body":"hi"},)"
                 R"("context":{"forwarded":true,"from":"1","id":"wamid.q"}})")
                 .context_id == "wamid.q");
}

BOOST_AUTO_TEST_CASE(abusive_content_is_capped_and_linear) {
  // One huge caption and a huge list of shared contacts: each query stays within the cap.
  const inbound_message caption =
      one_of("image", R"(,"image":{"caption":")" + std::string(1'000'000, 'q') + R"("})");
  BOOST_TEST((caption.disposition == disposition::answer));
  BOOST_TEST(caption.text.size() <= max_query_bytes);
  BOOST_TEST(caption.text.ends_with("\n[The customer attached an image]"));

  std::string cards;
  for (int i = 0; i < 50'000; ++i) {
    if (i > 0) cards += ',';
    cards += R"({"name":{"formatted_name":"Person )" + std::to_string(i) +
             R"("},"phones":[{"phone":"+1 555 )" + std::to_string(i) + R"("},{"phone":"+1 666"}]})";
  }
  std::string body =
      with_messages(R"({"from":"1","id":"w","type":"contacts","contacts":[)" + cards + "]}");
  BOOST_TEST(body.size() > 3'000'000u);
  const auto parsed = parse_delivery(body);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST_REQUIRE(parsed->messages.size() == 1u);
  const inbound_message& m = parsed->messages[0];
  BOOST_TEST((m.disposition == disposition::answer));
  BOOST_TEST(m.text.size() <= max_query_bytes);
  BOOST_TEST(m.text.starts_with(
      "[The customer shared 50000 contacts: Person 0, +1 555 0, +1 666; Person 1, +1 555 1"));
  BOOST_TEST(m.text.ends_with("]"));
}

// A text holding an unpaired surrogate escape (a phone cut an emoji in half) is not lost: it
// parses, the lone half reads as U+FFFD, and the rest of the delivery is untouched.
BOOST_AUTO_TEST_CASE(lone_surrogate_escapes_become_the_replacement_character) {
  const std::string replacement = "\xEF\xBF\xBD";
  const auto parsed = parse(with_messages(
      R"({"from":"111","id":"wamid.hi","type":"text","text":{"body":"cut \ud83d"}},)"
      R"({"from":"111","id":"wamid.lo","type":"text","text":{"body":"\ude00 alone"}},)"
      R"({"from":"111","id":"wamid.pair","type":"text","text":{"body":"\ud83d\ude00 whole"}},)" +
      good_message));
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->skipped_messages == 0u);
  BOOST_TEST(parsed->value_errors == 0u);
  BOOST_TEST_REQUIRE(parsed->messages.size() == 4u);
  BOOST_TEST(parsed->messages[0].text == "cut " + replacement);
  BOOST_TEST((parsed->messages[0].disposition == disposition::answer));
  BOOST_TEST(parsed->messages[1].text == replacement + " alone");
  BOOST_TEST(parsed->messages[2].text == "\xF0\x9F\x98\x80 whole");
  BOOST_TEST(parsed->messages[3].text == "ok");
  // The next body on this thread is repaired too, and the first one's messages are unchanged.
  const std::string first_text = parsed->messages[0].text;
  const auto next = parse(with_messages(
      R"({"from":"222","id":"wamid.next","type":"text","text":{"body":"\udbff again"}})"));
  BOOST_TEST_REQUIRE(next.has_value());
  BOOST_TEST_REQUIRE(next->messages.size() == 1u);
  BOOST_TEST(next->messages[0].text == replacement + " again");
  BOOST_TEST(parsed->messages[0].text == first_text);
}

// Ids over their bounds (a 2,000-byte wamid, a 200-byte customer) are refused and counted, so
// the dedupe memory, which keeps ids for days, stays bounded in bytes; the others are kept.
BOOST_AUTO_TEST_CASE(ids_over_their_bounds_are_refused_and_counted) {
  const std::string long_id(2000, 'w');
  const std::string long_customer(200, '9');
  const std::string at_bound(max_message_id_bytes, 'b');
  const auto parsed = parse(with_messages(
      R"({"from":"111","id":")" + long_id + R"(","type":"text","text":{"body":"a"}},)" +
      R"({"from":")" + long_customer + R"(","id":"wamid.c","type":"text","text":{"body":"b"}},)" +
      R"({"from":"111","id":")" + at_bound + R"(","type":"text","text":{"body":"c"}},)" +
      good_message));
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->oversized_ids == 2u);
  BOOST_TEST(parsed->skipped_messages == 0u);
  BOOST_TEST_REQUIRE(parsed->messages.size() == 2u);
  BOOST_TEST(parsed->messages[0].id == at_bound);
  BOOST_TEST(parsed->messages[1].id == "wamid.good");
}

// --- operator controls: the business's own messages, ads, webhook fields -----------------------

// The standard envelope around one change of `field` holding `value`.
std::string change_of(const std::string& field, const std::string& value) {
  return R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":")" +
         field + R"(","value":)" + value + "}]}]}";
}

BOOST_AUTO_TEST_CASE(smb_message_echoes_become_echoes_not_messages) {
  const auto parsed = parse(read_fixture("smb-message-echoes.json"));
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->messages.empty());
  BOOST_TEST(parsed->ignored_changes == 0u);
  BOOST_TEST_REQUIRE(parsed->echoes.size() == 1u);
  const echo& e = parsed->echoes.front();
  BOOST_TEST(e.id == "wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSRUNIT0ZST01USEVBUFAwMDEA");
  BOOST_TEST(e.phone_number_id == "106540352242922");
  // "from" is the business's own number; the customer is "to".
  BOOST_TEST(e.customer_id == "919876543210");
  BOOST_TEST(parsed->changes_by_field.at("smb_message_echoes") == 1u);
}

BOOST_AUTO_TEST_CASE(echoes_read_with_field_first_for_username_customers_and_wrong_shapes_dropped) {
  const std::string value = R"({"metadata":{"phone_number_id":"555"},"message_echoes":[)"
                            R"({"from":"1","to":"911","id":"wamid.e1"},)"
                            R"({"from":"1","to_user_id":"IN.1349","id":"wamid.e2"},)"
                            R"({"from":"1","to":911,"id":"wamid.bad"},)"
                            R"({"from":"1","id":"wamid.nobody"},)"
                            R"("not an object"]})";
  const auto parsed = parse(change_of("smb_message_echoes", value));
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST_REQUIRE(parsed->echoes.size() == 2u);
  BOOST_TEST(parsed->echoes[0].customer_id == "911");
  BOOST_TEST(parsed->echoes[0].phone_number_id == "555");
  BOOST_TEST(parsed->echoes[1].customer_id == "IN.1349");
  BOOST_TEST(parsed->echoes[1].id == "wamid.e2");
  BOOST_TEST(parsed->messages.empty());

  // Without the business number, nobody can be paused.
  const auto no_number = parse(change_of(
      "smb_message_echoes", R"({"message_echoes":[{"from":"1","to":"911","id":"wamid.e3"}]})"));
  BOOST_TEST_REQUIRE(no_number.has_value());
  BOOST_TEST(no_number->echoes.empty());
}

BOOST_AUTO_TEST_CASE(message_echoes_count_only_in_their_own_field) {
  // The same array in a "messages" change is not the business's app writing.
  const std::string value =
      R"({"metadata":{"phone_number_id":"555"},"message_echoes":[{"to":"911","id":"wamid.e"}],)"
      R"("messages":[)" +
      good_message + "]}";
  const auto parsed = parse(change_of("messages", value));
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->echoes.empty());
  BOOST_TEST(parsed->messages.size() == 1u);
}

BOOST_AUTO_TEST_CASE(changes_are_counted_by_field_and_unknown_fields_as_other) {
  const std::string body =
      R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[)"
      R"({"field":"account_update","value":{"event":"VERIFIED_ACCOUNT"}},)"
      R"({"field":"a_field_meta_adds_next_year","value":{"x":1}},)"
      R"({"field":"account_update","value":{"event":"DISABLED_UPDATE"}},)"
      R"({"field":"messages","value":{"metadata":{"phone_number_id":"555"},"messages":[)" +
      good_message + "]}}]}]}";
  const auto parsed = parse(body);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->changes_by_field.size() == 3u);
  BOOST_TEST(parsed->changes_by_field.at("account_update") == 2u);
  BOOST_TEST(parsed->changes_by_field.at("other") == 1u);
  BOOST_TEST(parsed->changes_by_field.at("messages") == 1u);
  BOOST_TEST(parsed->ignored_changes == 3u);
  BOOST_TEST(parsed->messages.size() == 1u);
  BOOST_TEST(known_field("history") == "history");
  BOOST_TEST(known_field("") == "other");
  BOOST_TEST(known_field("Messages") == "other");
}

BOOST_AUTO_TEST_CASE(a_referral_adds_the_ad_line_and_nothing_else_changes) {
  const inbound_message from_ad = only_message("text-ad-referral.json");
  BOOST_TEST(from_ad.text ==
             "Is the floor lamp still on sale?\n[The customer came from an ad: \"Spring sale: 30% "
             "off lamps\" https://fb.me/3cr4Wqqkv]");
  BOOST_TEST(from_ad.customer_id == "919876543210");

  // The same message without its referral is the text alone.
  std::string body = read_fixture("text-ad-referral.json");
  const auto start = body.find(R"("referral":)");
  const auto end = body.find(R"("from":)", start);
  BOOST_TEST_REQUIRE((start != std::string::npos && end != std::string::npos));
  body.erase(start, end - start);
  const auto plain = parse(body);
  BOOST_TEST_REQUIRE(plain.has_value());
  BOOST_TEST_REQUIRE(plain->messages.size() == 1u);
  BOOST_TEST(plain->messages.front().text == "Is the floor lamp still on sale?");

  // An ad without a headline names its body; a caption keeps its attachment note first.
  const inbound_message body_only = one_of(
      "text", R"(,"text":{"body":"hi"},"referral":{"body":"Lamps","source_url":"https://x.y/a"})");
  BOOST_TEST(body_only.text == "hi\n[The customer came from an ad: \"Lamps\" https://x.y/a]");
  const inbound_message captioned =
      one_of("image", R"(,"image":{"caption":"this one?"},"referral":{"headline":"Sale"})");
  BOOST_TEST(captioned.text ==
             "this one?\n[The customer attached an image]\n[The customer came from an ad: "
             "\"Sale\"]");
  // A message the AI does not answer gains nothing; an empty referral adds nothing.
  check(one_of("image", R"(,"image":{},"referral":{"headline":"Sale"})"), unsupported_reply,
        "image without caption");
  check(one_of("text", R"(,"text":{"body":"hi"},"referral":{"headline":" ","source_type":"ad"})"),
        answered("hi"), "blank referral");
  check(one_of("text", R"(,"text":{"body":"hi"},"referral":{"headline":7})"), answered("hi"),
        "headline of the wrong type");
}

BOOST_AUTO_TEST_SUITE_END()
