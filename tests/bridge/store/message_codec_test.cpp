#include "bridge/store/message_codec.hpp"

#include <boost/test/unit_test.hpp>

using namespace bridge;
using namespace bridge::store;

BOOST_AUTO_TEST_SUITE(message_codec)

BOOST_AUTO_TEST_CASE(every_field_round_trips) {
  webhook::meta::inbound_message m;
  m.id = "wamid.1";
  m.phone_number_id = "106";
  m.customer_id = "IN.1349";
  m.customer_is_username = true;
  m.profile_name = "Kiran \"K\" \xF0\x9F\x98\x80";
  m.type = "image";
  m.kind = webhook::meta::message_kind::image;
  m.disposition = webhook::meta::disposition::answer;
  m.text = "Is this in stock?\n[The customer attached an image]";
  m.timestamp = 1763971200;
  m.context_id = "wamid.out.9";
  const auto back = decode_message(encode_message(m));
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->id == m.id);
  BOOST_TEST(back->phone_number_id == m.phone_number_id);
  BOOST_TEST(back->customer_id == m.customer_id);
  BOOST_TEST(back->customer_is_username);
  BOOST_TEST(back->profile_name == m.profile_name);
  BOOST_TEST(back->type == "image");
  BOOST_TEST((back->kind == webhook::meta::message_kind::image));
  BOOST_TEST((back->disposition == webhook::meta::disposition::answer));
  BOOST_TEST(back->text == m.text);
  BOOST_TEST(back->timestamp == m.timestamp);
  BOOST_TEST(back->context_id == m.context_id);
}

BOOST_AUTO_TEST_CASE(journals_written_before_dispositions_existed_still_replay) {
  const auto old = decode_message(
      R"({"v":1,"id":"wamid.o","phone_number_id":"106","customer_id":"9198","username":false,)"
      R"("profile_name":"","type":"text","text":"hello","timestamp":1,"context_id":""})");
  BOOST_REQUIRE(old.has_value());
  BOOST_TEST((old->disposition == webhook::meta::disposition::answer));
  BOOST_TEST(old->text == "hello");
}

BOOST_AUTO_TEST_CASE(payloads_we_did_not_write_are_refused) {
  BOOST_TEST(!decode_message("not json").has_value());
  BOOST_TEST(!decode_message(R"({"v":2,"id":"x","phone_number_id":"1","customer_id":"2"})"));
  BOOST_TEST(!decode_message(R"({"v":1,"id":"","phone_number_id":"1","customer_id":"2"})"));
  BOOST_TEST(!decode_message(
      R"({"v":1,"id":"x","phone_number_id":"1","customer_id":"2","disposition":7})"));
}

BOOST_AUTO_TEST_CASE(payload_layout_is_unchanged) {
  // The layout Boost.JSON wrote before the writer took over; journals hold both.
  webhook::meta::inbound_message m;
  m.id = "wamid.1";
  m.phone_number_id = "106";
  m.customer_id = "9198";
  m.profile_name = "K \"K\"";
  m.type = "text";
  m.text = "a\nb\\";
  m.timestamp = -1;
  m.disposition = webhook::meta::disposition::ignore;
  BOOST_TEST(
      encode_message(m) ==
      R"({"v":1,"id":"wamid.1","phone_number_id":"106","customer_id":"9198","username":false,)"
      R"("profile_name":"K \"K\"","type":"text","text":"a\nb\\","timestamp":-1,)"
      R"("context_id":"","disposition":2})");
}

BOOST_AUTO_TEST_CASE(invalid_utf8_is_stored_as_replacement_characters) {
  webhook::meta::inbound_message m;
  m.id = "wamid.1";
  m.phone_number_id = "106";
  m.customer_id = "9198";
  m.profile_name = "bad \xFF name";
  m.text = "\xC3";
  const auto back = decode_message(encode_message(m));
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->profile_name == "bad \xEF\xBF\xBD name");
  BOOST_TEST(back->text == "\xEF\xBF\xBD");
}

BOOST_AUTO_TEST_CASE(payloads_read_as_boost_json_read_them) {
  // Duplicate keys: the last one counts.
  const auto duplicated = decode_message(
      R"({"v":1,"id":"a","id":"b","phone_number_id":"1","customer_id":"2","disposition":0})");
  BOOST_REQUIRE(duplicated.has_value());
  BOOST_TEST(duplicated->id == "b");
  // Wrong types read as absent; a version or disposition that is not an integer refuses.
  const auto loose = decode_message(
      R"({"v":1,"id":"x","phone_number_id":"1","customer_id":"2","username":"yes","type":7,)"
      R"("timestamp":1.5,"text":null,"disposition":1})");
  BOOST_REQUIRE(loose.has_value());
  BOOST_TEST(!loose->customer_is_username);
  BOOST_TEST(loose->type.empty());
  BOOST_TEST(loose->timestamp == 0);
  BOOST_TEST((loose->disposition == webhook::meta::disposition::unsupported));
  BOOST_TEST(!decode_message(R"({"v":1.0,"id":"x","phone_number_id":"1","customer_id":"2"})"));
  BOOST_TEST(!decode_message(R"({"v":"1","id":"x","phone_number_id":"1","customer_id":"2"})"));
  BOOST_TEST(!decode_message(
      R"({"v":1,"id":"x","phone_number_id":"1","customer_id":"2","disposition":"0"})"));
  BOOST_TEST(!decode_message(
      R"({"v":1,"id":"x","phone_number_id":"1","customer_id":"2","disposition":-1})"));
  BOOST_TEST(!decode_message(R"([1])"));
  BOOST_TEST(!decode_message(""));
  BOOST_TEST(!decode_message(R"({"v":1,"id":"x","phone_number_id":"1","customer_id":"2"} x)"));
}

BOOST_AUTO_TEST_SUITE_END()
