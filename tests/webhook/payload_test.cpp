#include "webhook/payload.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace {

using namespace bridge::webhook;

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
  BOOST_TEST(m.timestamp == 1763971200);
  BOOST_TEST(m.context_id.empty());
}

BOOST_AUTO_TEST_CASE(text_reply_with_context) {
  const inbound_message m = only_message("text-reply-context.json");
  BOOST_TEST(m.id == "wamid.ctx1");
  BOOST_TEST((m.kind == message_kind::text));
  BOOST_TEST(m.text == "And on Sundays?");
  BOOST_TEST(m.context_id == "wamid.out.abc");
}

BOOST_AUTO_TEST_CASE(interactive_button_reply) {
  const inbound_message m = only_message("interactive-button-reply.json");
  BOOST_TEST(m.id == "wamid.btn1");
  BOOST_TEST((m.kind == message_kind::interactive));
  BOOST_TEST(m.type == "interactive");
  BOOST_TEST(m.text.empty());
  BOOST_TEST(m.context_id == "wamid.out.menu");
  BOOST_TEST(m.customer_id == "919876543210");
}

BOOST_AUTO_TEST_CASE(interactive_list_reply) {
  const inbound_message m = only_message("interactive-list-reply.json");
  BOOST_TEST(m.id == "wamid.list1");
  BOOST_TEST((m.kind == message_kind::interactive));
  BOOST_TEST(m.text.empty());
  BOOST_TEST(m.context_id.empty());
}

BOOST_AUTO_TEST_CASE(template_button) {
  const inbound_message m = only_message("button.json");
  BOOST_TEST(m.id == "wamid.tbtn1");
  BOOST_TEST((m.kind == message_kind::button));
  BOOST_TEST(m.type == "button");
}

BOOST_AUTO_TEST_CASE(images) {
  const inbound_message with_caption = only_message("image-caption.json");
  BOOST_TEST(with_caption.id == "wamid.img1");
  BOOST_TEST((with_caption.kind == message_kind::image));
  BOOST_TEST(with_caption.text.empty());
  const inbound_message without_caption = only_message("image-no-caption.json");
  BOOST_TEST(without_caption.id == "wamid.img2");
  BOOST_TEST((without_caption.kind == message_kind::image));
}

BOOST_AUTO_TEST_CASE(audio_voice_note) {
  const inbound_message m = only_message("audio-voice.json");
  BOOST_TEST(m.id == "wamid.aud1");
  BOOST_TEST((m.kind == message_kind::audio));
}

BOOST_AUTO_TEST_CASE(location) {
  const inbound_message m = only_message("location.json");
  BOOST_TEST(m.id == "wamid.loc1");
  BOOST_TEST((m.kind == message_kind::location));
  BOOST_TEST(m.profile_name == "Asha Rao");
}

BOOST_AUTO_TEST_CASE(shared_contacts_do_not_confuse_the_sender) {
  const inbound_message m = only_message("contacts.json");
  BOOST_TEST(m.id == "wamid.cnt1");
  BOOST_TEST((m.kind == message_kind::contacts));
  BOOST_TEST(m.customer_id == "919876543210");
  BOOST_TEST(m.profile_name == "Asha Rao");
}

BOOST_AUTO_TEST_CASE(reaction) {
  const inbound_message m = only_message("reaction.json");
  BOOST_TEST(m.id == "wamid.rct1");
  BOOST_TEST((m.kind == message_kind::reaction));
  BOOST_TEST(m.type == "reaction");
}

BOOST_AUTO_TEST_CASE(unsupported) {
  const inbound_message m = only_message("unsupported.json");
  BOOST_TEST(m.id == "wamid.uns1");
  BOOST_TEST((m.kind == message_kind::unsupported));
}

BOOST_AUTO_TEST_CASE(username_customer) {
  const inbound_message m = only_message("username-user.json");
  BOOST_TEST(m.id == "wamid.bsuid1");
  BOOST_TEST(m.customer_id == "IN.13491208655302741918");
  BOOST_TEST(m.customer_is_username);
  BOOST_TEST(m.profile_name == "kiran");
  BOOST_TEST(m.text == "Hello from a username account");
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

BOOST_AUTO_TEST_SUITE_END()
