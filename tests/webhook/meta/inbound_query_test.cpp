#include "webhook/meta/inbound_query.hpp"

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "webhook/util/ascii.hpp"
#include "webhook/util/utf8.hpp"

namespace {

using namespace bridge::webhook::meta;
using namespace bridge::webhook::util;

// True when `text` is well-formed UTF-8 (no code point cut at either end).
bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80    ? 1
                               : lead >= 0xF0 ? 4
                               : lead >= 0xE0 ? 3
                               : lead >= 0xC0 ? 2
                                              : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

message_outcome describe(message_kind kind, const message_content& content = {}) {
  return describe_message(kind, content);
}

void check_answer(const message_outcome& outcome, const std::string& query) {
  BOOST_TEST((outcome.disposition == disposition::answer));
  BOOST_TEST(outcome.query == query);
}

void check_no_answer(const message_outcome& outcome, disposition expected) {
  BOOST_TEST((outcome.disposition == expected));
  BOOST_TEST(outcome.query.empty());
}

contact_card card(std::string_view name, std::vector<std::string_view> phones) {
  contact_card c;
  c.formatted_name = name;
  c.phones = std::move(phones);
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(inbound_query)

BOOST_AUTO_TEST_CASE(disposition_labels) {
  BOOST_TEST(to_string(disposition::answer) == "answer");
  BOOST_TEST(to_string(disposition::unsupported) == "unsupported");
  BOOST_TEST(to_string(disposition::ignore) == "ignore");
  BOOST_TEST((inbound_message{}.disposition == disposition::ignore));
}

BOOST_AUTO_TEST_CASE(text_is_answered_verbatim_and_uncapped) {
  message_content content;
  content.text_body = "  Hi  ";
  check_answer(describe(message_kind::text, content), "  Hi  ");
  const std::string long_text(3 * max_query_bytes, 'x');  // WhatsApp bounds texts, not the bridge
  content.text_body = long_text;
  check_answer(describe(message_kind::text, content), long_text);
  content.text_body = "";
  check_no_answer(describe(message_kind::text, content), disposition::ignore);
}

BOOST_AUTO_TEST_CASE(kinds_without_a_question) {
  message_content content;
  content.text_body = "a stray body";  // content of another type never makes these answerable
  content.image.caption = "a stray caption";
  for (const message_kind kind :
       {message_kind::reaction, message_kind::order, message_kind::system,
        message_kind::request_welcome, message_kind::edit, message_kind::revoke,
        message_kind::unsupported, message_kind::unknown}) {
    check_no_answer(describe(kind, content), disposition::ignore);
  }
  for (const message_kind kind : {message_kind::audio, message_kind::sticker}) {
    check_no_answer(describe(kind, content), disposition::unsupported);
  }
}

BOOST_AUTO_TEST_CASE(interactive_replies) {
  message_content c;
  c.interactive.type = "button_reply";
  c.interactive.button_id = "pricing";
  c.interactive.button_title = "Pricing";
  check_answer(describe(message_kind::interactive, c), "Pricing");
  c.interactive.button_title = " ";
  check_answer(describe(message_kind::interactive, c), "pricing");  // the id rather than nothing
  c.interactive.button_id = "";
  check_no_answer(describe(message_kind::interactive, c), disposition::unsupported);

  c.interactive.type = "list_reply";
  c.interactive.list_id = "plan_pro";
  c.interactive.list_title = "Pro plan";
  c.interactive.list_description = "For teams up to 50";
  check_answer(describe(message_kind::interactive, c), "Pro plan (For teams up to 50)");
  c.interactive.list_description = "\t";
  check_answer(describe(message_kind::interactive, c), "Pro plan");
  c.interactive.list_title = "";
  c.interactive.list_description = "For teams up to 50";
  check_answer(describe(message_kind::interactive, c), "plan_pro");
  c.interactive.list_id = "";
  check_no_answer(describe(message_kind::interactive, c), disposition::unsupported);

  c.interactive.type = "nfm_reply";
  c.interactive.form_body = "Sent";
  c.interactive.form_response_json = R"({"flow_token":"t","city":"Pune"})";
  check_answer(describe(message_kind::interactive, c),
               "[The customer submitted a form]\ncity: Pune");
  c.interactive.form_response_json = R"({"flow_token":"t"})";
  check_answer(describe(message_kind::interactive, c), "Sent");
  c.interactive.form_body = "";
  check_no_answer(describe(message_kind::interactive, c), disposition::unsupported);

  for (const std::string_view subtype : {"", "call_permission_reply", "BUTTON_REPLY"}) {
    message_content other;
    other.interactive.type = subtype;
    other.interactive.button_title = "Pricing";
    check_no_answer(describe(message_kind::interactive, other), disposition::ignore);
  }
}

BOOST_AUTO_TEST_CASE(template_button) {
  message_content c;
  c.button.text = "Yes, book it";
  c.button.payload = "YES_BOOK";
  check_answer(describe(message_kind::button, c), "Yes, book it");
  c.button.text = "";
  check_answer(describe(message_kind::button, c), "YES_BOOK");
  c.button.payload = " ";
  check_no_answer(describe(message_kind::button, c), disposition::unsupported);
}

BOOST_AUTO_TEST_CASE(media_with_and_without_caption) {
  message_content c;
  c.image.caption = "Is this model in stock?";
  check_answer(describe(message_kind::image, c),
               "Is this model in stock?\n[The customer attached an image]");
  c.video.caption = "Blue?";
  check_answer(describe(message_kind::video, c), "Blue?\n[The customer attached a video]");
  c.document.caption = "Total?";
  check_answer(describe(message_kind::document, c), "Total?\n[The customer attached a document]");
  c.document.filename = "invoice.pdf";
  check_answer(describe(message_kind::document, c),
               "Total?\n[The customer attached a document: invoice.pdf]");
  c.document.caption = " \n";
  check_no_answer(describe(message_kind::document, c), disposition::unsupported);
  check_no_answer(describe(message_kind::image, {}), disposition::unsupported);
  c.video.caption = "";
  c.video.filename = "clip.mp4";  // a name alone is not a question
  check_no_answer(describe(message_kind::video, c), disposition::unsupported);
}

BOOST_AUTO_TEST_CASE(locations) {
  message_content c;
  c.location.latitude = 12.9716;
  c.location.longitude = 77.5946;
  c.location.name = "MG Road Metro";
  c.location.address = "MG Road, Bengaluru";
  check_answer(
      describe(message_kind::location, c),
      "[The customer shared a location: MG Road Metro, MG Road, Bengaluru (12.9716, 77.5946)]");
  c.location.address = "MG Road Metro";  // the same text twice says nothing more
  check_answer(describe(message_kind::location, c),
               "[The customer shared a location: MG Road Metro (12.9716, 77.5946)]");
  c.location.name = "";
  c.location.address = "";
  check_answer(describe(message_kind::location, c),
               "[The customer shared a location: 12.9716, 77.5946]");
  c.location.latitude = 90.5;  // out of range: not a place
  check_no_answer(describe(message_kind::location, c), disposition::unsupported);
  c.location.address = "Near the clock tower";
  check_answer(describe(message_kind::location, c),
               "[The customer shared a location: Near the clock tower]");
  c.location.latitude = -90.0;
  c.location.longitude = std::nullopt;  // half a coordinate is left out
  check_answer(describe(message_kind::location, c),
               "[The customer shared a location: Near the clock tower]");
  c.location.longitude = -180.0;
  check_answer(describe(message_kind::location, c),
               "[The customer shared a location: Near the clock tower (-90, -180)]");
}

BOOST_AUTO_TEST_CASE(contacts) {
  message_content c;
  c.contacts.cards = {card("Ravi Kumar", {"+91 98450 12345"})};
  c.contacts.count = 1;
  check_answer(describe(message_kind::contacts, c),
               "[The customer shared a contact: Ravi Kumar, +91 98450 12345]");

  contact_card names_only;
  names_only.first_name = "Meena";
  names_only.last_name = "Iyer";
  contact_card last_only;
  last_only.last_name = "Rao";
  c.contacts.cards = {card("Ravi Kumar", {"+91 98450 12345", "+91 80 4123 4567"}), names_only,
                      card("", {"+1 555 0100"}), last_only, card(" ", {})};
  c.contacts.count = 4;  // the blank card was never counted
  check_answer(describe(message_kind::contacts, c),
               "[The customer shared 4 contacts: Ravi Kumar, +91 98450 12345, +91 80 4123 4567; "
               "Meena Iyer; +1 555 0100; Rao]");

  c.contacts = {};
  check_no_answer(describe(message_kind::contacts, c), disposition::unsupported);
}

BOOST_AUTO_TEST_CASE(derived_queries_are_capped_on_a_utf8_boundary) {
  std::string caption = "a";
  for (int i = 0; i < 10000; ++i)
    caption += "\xE2\x82\xAC";  // €, three bytes: a cut must back off
  const std::string filename(20000, 'f');
  message_content c;
  c.document.caption = caption;
  c.document.filename = filename;
  const message_outcome media = describe(message_kind::document, c);
  BOOST_TEST((media.disposition == disposition::answer));
  BOOST_TEST(media.query.size() <= max_query_bytes);
  BOOST_TEST(media.query.size() > max_query_bytes - 4);
  BOOST_TEST(valid_utf8(media.query));
  // The caption keeps half; the note says what came, the file name is cut and the bracket stays.
  BOOST_TEST(media.query.find("\n[The customer attached a document: fff") != std::string::npos);
  BOOST_TEST(media.query.back() == ']');
  BOOST_TEST(media.query.substr(0, 5) == "a\xE2\x82\xAC\xE2");

  c.location.name = caption;
  c.location.latitude = 1.5;
  c.location.longitude = 2.5;
  const message_outcome location = describe(message_kind::location, c);
  BOOST_TEST(location.query.size() <= max_query_bytes);
  BOOST_TEST(valid_utf8(location.query));
  BOOST_TEST(location.query.back() == ']');
  BOOST_TEST(location.query.find("(1.5") == std::string::npos);  // cut before the coordinates

  c.interactive.type = "list_reply";
  c.interactive.list_title = caption;
  c.interactive.list_description = "d";
  const message_outcome list = describe(message_kind::interactive, c);
  BOOST_TEST(list.query.size() <= max_query_bytes);
  BOOST_TEST(valid_utf8(list.query));
  BOOST_TEST(list.query.back() == ')');

  c.button.text = caption;
  const message_outcome button = describe(message_kind::button, c);
  BOOST_TEST(button.query.size() <= max_query_bytes);
  BOOST_TEST(button.query.size() > max_query_bytes - 3);
  BOOST_TEST(valid_utf8(button.query));

  for (int i = 0; i < 5000; ++i)
    c.contacts.cards.push_back(card("Name \xC3\xA9", {"+91 00000 00000"}));
  c.contacts.count = 5000;
  const message_outcome cards = describe(message_kind::contacts, c);
  BOOST_TEST(cards.query.size() <= max_query_bytes);
  BOOST_TEST(valid_utf8(cards.query));
  BOOST_TEST(cards.query.starts_with("[The customer shared 5000 contacts: Name \xC3\xA9, +91"));
  BOOST_TEST(cards.query.back() == ']');
}

BOOST_AUTO_TEST_CASE(utf8_prefixes) {
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // 1 + 2 + 3 + 4 bytes
  const std::size_t expected[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 10};
  for (std::size_t max = 0; max < std::size(expected); ++max) {
    BOOST_TEST(utf8_prefix(text, max).size() == expected[max], max);
  }
  BOOST_TEST(utf8_prefix("", 0).empty());
  BOOST_TEST(utf8_prefix("abc", 2) == "ab");
}

BOOST_AUTO_TEST_CASE(numbers_are_formatted_without_noise) {
  const std::pair<double, const char*> cases[] = {
      {12.9716, "12.9716"},
      {77.5946, "77.5946"},
      {-33.8688, "-33.8688"},
      {151.2093, "151.2093"},
      {0.0, "0"},
      {-0.0, "0"},
      {1.0, "1"},
      {25, "25"},
      {2.50, "2.5"},
      {0.000001, "0.000001"},
      {1e-7, "1e-07"},
      {123456789012345.0, "123456789012345"},
      {1e15, "1e+15"},
      {0.1 + 0.2, "0.30000000000000004"},
  };
  for (const auto& [value, text] : cases) {
    BOOST_TEST(format_number(value) == text, text);
  }
  BOOST_TEST(format_number(std::numeric_limits<double>::infinity()).empty());
  BOOST_TEST(format_number(std::nan("")).empty());
  BOOST_TEST(format_number(std::numeric_limits<double>::max()) == "1.7976931348623157e+308");
}

BOOST_AUTO_TEST_CASE(numbers_in_strings) {
  BOOST_TEST(parse_number("12.9716").value() == 12.9716);
  BOOST_TEST(parse_number(" 77.5946\n").value() == 77.5946);
  BOOST_TEST(parse_number("+1.5").value() == 1.5);
  BOOST_TEST(parse_number("-33").value() == -33.0);
  BOOST_TEST(parse_number("1e1").value() == 10.0);
  for (const char* bad :
       {"", "  ", "abc", "12x", "1 2", "1e400", "inf", "nan", "0x10", "++1", "+"}) {
    BOOST_TEST(!parse_number(bad).has_value(), bad);
  }
}

BOOST_AUTO_TEST_CASE(form_responses) {
  BOOST_TEST(
      render_form_response(
          R"({"flow_token":"tok","name":"Asha \"A\" Rao","seats":25,"price":2.50,)"
          R"("newsletter":true,"sms":false,"topics":["billing",3,["x"],{"y":1},null],)"
          R"("address":{"city":"Pune"},"middle":null,"empty":"","none":[],"caf\u00e9":"\u00e9"})") ==
      "[The customer submitted a form]\nname: Asha \"A\" Rao\nseats: 25\nprice: 2.5\n"
      "newsletter: yes\nsms: no\ntopics: billing, 3\ncaf\xC3\xA9: \xC3\xA9");
  const char* const nothing_to_show[] = {
      "",
      R"({})",
      R"({"flow_token":"tok"})",
      R"({"a":null,"b":{"c":"d"},"e":[]})",
      R"([{"a":"b"}])",
      R"("text")",
      R"(not json)",
      R"({"a":"b")",
      R"({"a":"b"} {"c":"d"})",
      R"({"a":"b"}])",
      R"({"a":"b","c":})",
      R"({"a":"b","c":nonsense})",
      R"({"a":"b","c":tru})",
      R"({"a":"b","c":1e999})",
  };
  for (const char* json : nothing_to_show) {
    BOOST_TEST(render_form_response(json).empty(), json);
  }
  // Small enough: rendered; one byte over the limit: the caller falls back to the body.
  std::string json = R"({"a":")";
  json += std::string(max_form_json_bytes - json.size() - 2, 'x') + "\"}";
  BOOST_TEST(json.size() == max_form_json_bytes);
  BOOST_TEST(!render_form_response(json).empty());
  json.insert(6, "x");
  BOOST_TEST(render_form_response(json).empty());
  // Deep nesting inside a value is skipped, not recursed into.
  const std::string deep =
      R"({"a":)" + std::string(1000, '[') + std::string(1000, ']') + R"(,"b":"kept"})";
  BOOST_TEST(render_form_response(deep) == "[The customer submitted a form]\nb: kept");
}

BOOST_AUTO_TEST_CASE(contact_card_content) {
  BOOST_TEST(!has_content(contact_card{}));
  BOOST_TEST(!has_content(card("  ", {})));
  BOOST_TEST(has_content(card("Ravi", {})));
  BOOST_TEST(has_content(card("", {"+1"})));
  BOOST_TEST(is_blank(" \t\r\n"));
  BOOST_TEST(!is_blank(" x "));
}

BOOST_AUTO_TEST_CASE(referral_line_names_the_ad) {
  referral_content ad;
  BOOST_TEST(referral_line(ad).empty());
  ad.source_type = "ad";
  BOOST_TEST(referral_line(ad).empty());  // nothing to show
  ad.source_url = " https://fb.me/3cr4Wqqkv ";
  BOOST_TEST(referral_line(ad) == "[The customer came from an ad https://fb.me/3cr4Wqqkv]");
  ad.body = "Free delivery";
  BOOST_TEST(referral_line(ad) ==
             "[The customer came from an ad: \"Free delivery\" https://fb.me/3cr4Wqqkv]");
  ad.headline = "Spring sale";
  BOOST_TEST(referral_line(ad) ==
             "[The customer came from an ad: \"Spring sale\" https://fb.me/3cr4Wqqkv]");
  ad.source_url = "";
  BOOST_TEST(referral_line(ad) == "[The customer came from an ad: \"Spring sale\"]");

  // A giant headline is cut, and the note stays closed.
  const std::string huge(100'000, 'h');
  ad.headline = huge;
  const std::string cut = referral_line(ad);
  BOOST_TEST(cut.size() <= max_query_bytes / 4 + 1);
  BOOST_TEST(cut.starts_with("[The customer came from an ad: \"hhh"));
  BOOST_TEST(cut.ends_with("]"));
}

BOOST_AUTO_TEST_CASE(a_referral_is_one_more_line_of_an_answered_query_only) {
  message_content content;
  content.text_body = "Is it on sale?";
  check_answer(describe(message_kind::text, content), "Is it on sale?");
  content.referral.headline = "Spring sale";
  check_answer(describe(message_kind::text, content),
               "Is it on sale?\n[The customer came from an ad: \"Spring sale\"]");
  check_no_answer(describe(message_kind::sticker, content), disposition::unsupported);
  check_no_answer(describe(message_kind::reaction, content), disposition::ignore);
}

BOOST_AUTO_TEST_SUITE_END()
