#include "webhook/format/whatsapp_format.hpp"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "webhook/format/text_split.hpp"
#include "webhook/util/utf8.hpp"

namespace {

using bridge::webhook::format::to_whatsapp;

struct conversion {
  const char* markdown;
  const char* whatsapp;
};

// Markdown in, WhatsApp out. Every rule of to_whatsapp has rows here, and so has every kind of text
// it must leave alone.
const conversion conversions[] = {
    // Headings.
    {"# Heading one", "*Heading one*"},
    {"###### Level six", "*Level six*"},
    {"## Title with **bold** and _it_ ##", "*Title with bold and _it_*"},
    {"Intro\n# Heading\nText", "Intro\n*Heading*\nText"},
    {"#hashtag and #1 choice, ####### seven", "#hashtag and #1 choice, ####### seven"},
    {"# C#", "*C#*"},
    // Emphasis.
    {"**bold**", "*bold*"},
    {"__bold__", "*bold*"},
    {"*italic*", "_italic_"},
    {"_italic_", "_italic_"},
    {"~~strike~~", "~strike~"},
    // CommonMark nests `***x***` as emphasis around strong (rule 14), and so do the markers.
    {"***both***", "_*both*_"},
    {"___both___", "_*both*_"},
    {"**bold _italic_ inside**", "*bold _italic_ inside*"},
    {"_**mix**_ and **_mix_**", "_*mix*_ and *_mix_*"},
    {"**Note:** text", "*Note:* text"},
    {"**unclosed bold and _unclosed italic", "**unclosed bold and _unclosed italic"},
    {"** not bold ** and * not italic *", "** not bold ** and * not italic *"},
    {"~approx~ 5 ~ 6 and ~/path", "~approx~ 5 ~ 6 and ~/path"},
    // Links and images.
    {"[the docs](https://example.com/docs)", "the docs (https://example.com/docs)"},
    {"[https://x.com/a_b](https://x.com/a_b)", "https://x.com/a_b"},
    {"[example.com](https://example.com/)", "https://example.com/"},
    {"<https://auto.link/x_y>", "https://auto.link/x_y"},
    {"![logo](https://i.com/l_1.png)", "logo (https://i.com/l_1.png)"},
    {"![](https://i.com/l.png)", "https://i.com/l.png"},
    {"[Wiki](https://en.wikipedia.org/wiki/Foo_(bar) \"Title\")",
     "Wiki (https://en.wikipedia.org/wiki/Foo_(bar))"},
    {"[mail us](mailto:help_desk@x.com) or <sales_team@x.com>",
     "mail us (help_desk@x.com) or sales_team@x.com"},
    {"**[Click here](https://x.com/a_b)** now", "*Click here (https://x.com/a_b)* now"},
    {"[1] and [not a link] (x) and [t](#anchor)", "[1] and [not a link] (x) and t"},
    // URLs are copied verbatim, emphasis markers and all.
    {"Go to https://example.com/a_b_c?x=*y* now", "Go to https://example.com/a_b_c?x=*y* now"},
    {"Visit www.my_site.com/*path*/x_y.", "Visit www.my_site.com/*path*/x_y."},
    {"See [it](https://example.com/a_b_c?x=*y*&z=~w~).",
     "See it (https://example.com/a_b_c?x=*y*&z=~w~)."},
    {"*see https://x.com/a_b*", "_see https://x.com/a_b_"},
    // Code.
    {"```python\ndef f(**kwargs):\n    return **not bold** and _x_ &amp; <b>\n```",
     "```\ndef f(**kwargs):\n    return **not bold** and _x_ &amp; <b>\n```"},
    {"~~~\n# not a heading\n\n\n\n| a |\n~~~", "```\n# not a heading\n\n\n\n| a |\n```"},
    {"```\nunclosed *code*", "```\nunclosed *code*\n```"},
    {"Use `**not bold**` and `a_b` and `<b>` &amp; `&amp;`",
     "Use `**not bold**` and `a_b` and `<b>` & `&amp;`"},
    {"```mono *x*``` stays", "```mono *x*``` stays"},
    // Tables.
    {"| Plan | Price |\n|:---|---:|\n| **Basic** | $10 |\n| Pro | $20 \\| month |",
     "Plan: *Basic*, Price: $10\nPlan: Pro, Price: $20 | month"},
    {"a | b\n--|--\n1 | 2\n\nafter", "a: 1, b: 2\n\nafter"},
    {"| Item | Note |\n|---|---|\n| Tea | |", "Item: Tea"},
    {"| only | header |\n|---|---|", "only, header"},
    {"not | a table\nplain", "not | a table\nplain"},
    // Lists, quotes, rules.
    {"* one\n+ two\n- three\n  * nested", "- one\n- two\n- three\n  - nested"},
    {"1. first\n2. **second**\n10) tenth", "1. first\n2. *second*\n10) tenth"},
    {"> quoted **text**\n>> nested\n> - item\n> # Title",
     "> quoted *text*\n> nested\n> - item\n> *Title*"},
    {"above\n\n---\n\nbelow\n***\n- - -\n___\nend", "above\n\nbelow\n\nend"},
    // Entities and HTML.
    {"Tom &amp; Jerry &lt;3 &quot;hi&quot; &#39;x&#39; a&nbsp;b", "Tom & Jerry <3 \"hi\" 'x' a b"},
    {"&#128077; &#x1F44D; &#0; &mdash; &bogus; & alone &#xZZ;",
     "\xF0\x9F\x91\x8D \xF0\x9F\x91\x8D \xEF\xBF\xBD \xE2\x80\x94 &bogus; & alone &#xZZ;"},
    {"&lt;b&gt;not a tag&lt;/b&gt;", "<b>not a tag</b>"},
    {"line<br>break<br/>x<br />y", "line\nbreak\nx\ny"},
    {"<b>bold</b> <strong>s</strong> <i>it</i> <em>e</em> <del>d</del>", "*bold* *s* _it_ _e_ ~d~"},
    {"<span class=\"x\">span</span> <a href=\"https://a.com/x_y\">site</a> <p>para</p>",
     "span site (https://a.com/x_y)\npara"},
    {"<ul><li>one</li><li>two</li></ul>", "- one\n- two"},
    {"<!-- hidden -->visible", "visible"},
    {"x<y and a < b > c, <notatag> 2 > 1", "x<y and a < b > c, <notatag> 2 > 1"},
    // Text that must come out as it went in.
    // `__init__` is strong: the closing `__` is right-flanking and followed by punctuation.
    {"user_id snake_case_name file_name.txt __init__.py",
     "user_id snake_case_name file_name.txt *init*.py"},
    {"2*3*4 and 5 * 6 = 30, a*b*c", "2*3*4 and 5 * 6 = 30, a*b*c"},
    {"1,000.50 and -5 and +3 and 50% and 3.14", "1,000.50 and -5 and +3 and 50% and 3.14"},
    {"-5 degrees\n+3 points", "-5 degrees\n+3 points"},
    {"5 \\* 3 = 15", "5 * 3 = 15"},
    // Emoji and right-to-left scripts.
    {"\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD **great** "
     "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7 family",
     "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD *great* "
     "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7 family"},
    {"\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 "
     "**\xD8\xA8\xD8\xA7\xD9\x84\xD8\xB9\xD8\xA7\xD9\x84\xD9"
     "\x85** \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D _\xD7\xA2\xD7\x95\xD7\x9C\xD7\x9D_",
     "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7 "
     "*\xD8\xA8\xD8\xA7\xD9\x84\xD8\xB9\xD8\xA7\xD9\x84\xD9"
     "\x85* \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D _\xD7\xA2\xD7\x95\xD7\x9C\xD7\x9D_"},
    {"\xF0\x9F\x98\x80**bold**\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80*bold*\xF0\x9F\x98\x80"},
    // Whitespace.
    {"a\n\n\n\nb\n\n\nc   \n\n", "a\n\nb\n\nc"},
    {"\n\n  \nstart\t ", "start"},
    {"crlf **x**\r\nline\r\n", "crlf *x*\nline"},
    {"", ""},
    // Invalid UTF-8 passes through.
    {"ok \xFF\xFE **b** \xC3", "ok \xFF\xFE *b* \xC3"},
};

// Markdown structure that md4c reads as CommonMark has it, and inputs that md4c 0.4.8 gets wrong
// unless to_whatsapp works around it.
const conversion commonmark_conversions[] = {
    // Blocks.
    {"Title\n=====\ntext", "*Title*\ntext"},
    {"1. a\n1. b\n1. c", "1. a\n2. b\n3. c"},
    {"3) x\n4) y", "3) x\n4) y"},
    {"- a\n\n  b\n- c", "- a\n\n  b\n- c"},
    {"- list\n  ```\n  code\n  ```", "- list\n  ```\n  code\n  ```"},
    {"> a\n>\n> b", "> a\n\n> b"},
    {"> quote\nlazy line", "> quote\n> lazy line"},
    {"    indented is not code", "indented is not code"},
    {"a\n\n\n```\n\ncode\n\n```\n\n\nb", "a\n\n```\n\ncode\n\n```\n\nb"},
    {"<div>\n**raw HTML block**\n</div>", "**raw HTML block**"},
    // Inlines.
    {"**bold\nacross lines**", "*bold*\n*across lines*"},
    {"*a **b** c*", "_a *b* c_"},
    {"**bold**text and a**b**c", "**bold**text and a**b**c"},
    {"10~20 and 30~40 or 5~~6~~7", "10~20 and 30~40 or 5~~6~~7"},
    {"<b>x</b>y and a<b>z</b>", "xy and az"},
    {"See [docs][r] or [r].\n\n[r]: https://r.example/a_b",
     "See docs (https://r.example/a_b) or r (https://r.example/a_b)."},
    {"Use `` `ticks` `` and ``` a ``` here", "Use `` `ticks` `` and ``` a ``` here"},
    {"line\\\nbreak", "line\nbreak"},
    {"Visit https://x.com/_a_ and _b_", "Visit https://x.com/_a_ and _b_"},
    // md4c 0.4.8: delimiters in a link destination pair with ones outside it (issue #222).
    {"[a](/x~y) ~z~", "a (/x~y) ~z~"},
    {"*z [a](/x*y) more*", "_z a (/x*y) more_"},
    // md4c 0.4.8: a delimiter row wants three bytes a column (issue #169).
    {"| a | b |\n|-|-|\n| 1 | 2 |", "a: 1, b: 2"},
    {"> a | b\n> :-|-:\n> 1 | 2", "> a: 1, b: 2"},
    {"```\na | b\n--|--\n```", "```\na | b\n--|--\n```"},
    // md4c 0.4.8: deeply nested brackets take quadratic time (issue #172); they are text.
    {"[[[[[[[[[[[[a]]]]]]]]]]]] [b](https://b.com)", "[[[[[[[[[[[[a]]]]]]]]]]]] b (https://b.com)"},
};

// A realistic agent answer, and what the customer should see.
const char* const robofy_answer =
    "## Opening hours\n"
    "\n"
    "Hi **Asha**! Here are our hours:\n"
    "\n"
    "| Day | Hours |\n"
    "|-----|-------|\n"
    "| Mon\xE2\x80\x93"
    "Fri | 9:00\xE2\x80\x93"
    "18:00 |\n"
    "| Sat | 10:00\xE2\x80\x93"
    "14:00 |\n"
    "\n"
    "* Holidays: *closed*\n"
    "* Book at [our site](https://shop.example.com/book?ref=wa_bot&utm=x_y)\n"
    "\n"
    "> Tip: call &quot;+91 98000 00001&quot; for urgent issues.\n"
    "\n"
    "\n"
    "\n"
    "Thanks &amp; see you soon \xF0\x9F\x91\x8B  \n";

const char* const robofy_whatsapp =
    "*Opening hours*\n"
    "\n"
    "Hi *Asha*! Here are our hours:\n"
    "\n"
    "Day: Mon\xE2\x80\x93"
    "Fri, Hours: 9:00\xE2\x80\x93"
    "18:00\n"
    "Day: Sat, Hours: 10:00\xE2\x80\x93"
    "14:00\n"
    "\n"
    "- Holidays: _closed_\n"
    "- Book at our site (https://shop.example.com/book?ref=wa_bot&utm=x_y)\n"
    "\n"
    "> Tip: call \"+91 98000 00001\" for urgent issues.\n"
    "\n"
    "Thanks & see you soon \xF0\x9F\x91\x8B";

bool is_valid_utf8(const std::string& text) {
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t length = bridge::webhook::util::utf8_sequence_length(text, pos);
    if (length == 0) return false;
    pos += length;
  }
  return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(whatsapp_format)

BOOST_AUTO_TEST_CASE(markdown_becomes_whatsapp) {
  BOOST_TEST(std::size(conversions) >= 40u);
  for (const conversion& row : conversions) {
    BOOST_TEST_CONTEXT("input: " << row.markdown) {
      BOOST_TEST(to_whatsapp(row.markdown) == row.whatsapp);
    }
  }
}

BOOST_AUTO_TEST_CASE(commonmark_structure_and_md4c_quirks) {
  for (const conversion& row : commonmark_conversions) {
    BOOST_TEST_CONTEXT("input: " << row.markdown) {
      BOOST_TEST(to_whatsapp(row.markdown) == row.whatsapp);
    }
  }
}

BOOST_AUTO_TEST_CASE(realistic_answer) {
  BOOST_TEST(to_whatsapp(robofy_answer) == robofy_whatsapp);
}

BOOST_AUTO_TEST_CASE(whatsapp_safe_text_is_a_fixed_point) {
  // Text that already reads well on WhatsApp comes out as it went in, and stays so.
  const char* const safe[] = {
      "Hello there, how can I help you today?",
      "- one\n- two\n\n1. first\n2. second",
      "> a quoted line",
      "Visit https://example.com/a_b_c?x=*y* or www.site.com/x_y, thanks.",
      "user_id = 2*3*4, 5 * 6 = 30, 1,000.50, -5",
      "```\ncode **x** and __y__\n\n\n\n```",
      "Run `pip install a_b` now",
      "_italic_ and ~strike~ stay",
      "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD \xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D "
      "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7",
      "Price: 10 USD (about 830 INR)\n\nSee you!",
  };
  for (const char* text : safe) {
    BOOST_TEST_CONTEXT("input: " << text) {
      const std::string once = to_whatsapp(text);
      BOOST_TEST(once == text);
      BOOST_TEST(to_whatsapp(once) == once);
    }
  }
  // The conversion of the realistic answer is itself stable apart from bold, which WhatsApp and
  // Markdown spell differently (`*x*` is Markdown italic).
  const std::string once = to_whatsapp(robofy_answer);
  BOOST_TEST(to_whatsapp(once).size() == once.size());
}

BOOST_AUTO_TEST_CASE(shortcuts_change_nothing) {
  // to_whatsapp copies lines without inline syntax, and plain runs inside other lines, whole. The
  // converter without those shortcuts reads every byte; both must agree on everything.
  using bridge::webhook::format::detail::to_whatsapp_without_shortcuts;
  for (const auto& table : {std::span<const conversion>(conversions),
                            std::span<const conversion>(commonmark_conversions)}) {
    for (const conversion& row : table) {
      BOOST_TEST_CONTEXT("input: " << row.markdown) {
        BOOST_TEST(to_whatsapp(row.markdown) == to_whatsapp_without_shortcuts(row.markdown));
      }
    }
  }
  BOOST_TEST(to_whatsapp(robofy_answer) == to_whatsapp_without_shortcuts(robofy_answer));

  // Generated lines: prose next to exactly what the shortcuts decide on (the letters a URL starts
  // with, at a word's start and inside one; '!' before and away from '['; markers and entities
  // right after plain runs), plus raw bytes.
  const std::vector<std::string> pieces = {"Thanks for your message! ",
                                           "hello",
                                           "show",
                                           "What",
                                           "How ",
                                           "www",
                                           "Www.",
                                           "http",
                                           "h",
                                           "w",
                                           "W",
                                           "H",
                                           "ahh",
                                           " ",
                                           "!",
                                           "![",
                                           "!x",
                                           "[",
                                           "](",
                                           ")",
                                           "(",
                                           "]",
                                           "*",
                                           "**",
                                           "_",
                                           "__",
                                           "~",
                                           "~~",
                                           "`",
                                           "``",
                                           "\\",
                                           "\\*",
                                           "&",
                                           "&amp;",
                                           "&#x41;",
                                           "<",
                                           "<b>",
                                           "</a>",
                                           "<a href=\"https://x.y/a_b\">",
                                           "<https://a.b/c_d>",
                                           "https://example.com/a_b?c=*d*",
                                           "http://x.io",
                                           "www.site.com/x_y",
                                           "see.",
                                           ".",
                                           ":",
                                           "//",
                                           "# ",
                                           "- ",
                                           "> ",
                                           "|",
                                           "\n",
                                           "\xC3\xA9",
                                           "\xF0\x9F\x98\x80",
                                           "\xFF",
                                           "2",
                                           "a2"};
  std::mt19937 random(20260303);
  for (int round = 0; round < 5000; ++round) {
    std::string text;
    const bool bytes = round % 10 == 9;
    for (int i = static_cast<int>(random() % 60); i > 0; --i) {
      if (bytes) {
        text += static_cast<char>(random() % 256);
      } else {
        text += pieces[random() % pieces.size()];
      }
    }
    BOOST_TEST_REQUIRE(to_whatsapp(text) == to_whatsapp_without_shortcuts(text),
                       "round " << round << " input " << text);
  }
}

BOOST_AUTO_TEST_CASE(garbage_never_crashes) {
  // Seeded random soup of Markdown-significant characters, multi-byte characters and raw bytes.
  const std::vector<std::string> pieces = {"*",
                                           "**",
                                           "_",
                                           "__",
                                           "~~",
                                           "`",
                                           "```",
                                           "```py\n",
                                           "[",
                                           "]",
                                           "(",
                                           ")",
                                           "![",
                                           "<",
                                           ">",
                                           "<b>",
                                           "</b>",
                                           "<br>",
                                           "<a href=\"x\">",
                                           "</a>",
                                           "<!--",
                                           "-->",
                                           "&",
                                           "&amp;",
                                           "&#",
                                           "&#x",
                                           ";",
                                           "#",
                                           "# ",
                                           "> ",
                                           "- ",
                                           "* ",
                                           "1. ",
                                           "|",
                                           "|---|",
                                           "---",
                                           "\n",
                                           "\n\n",
                                           " ",
                                           "\t",
                                           "\\",
                                           "http://",
                                           "https://x_y.com/",
                                           "www.",
                                           "a",
                                           "word",
                                           "\xC3\xA9",
                                           "\xE4\xB8\xAD",
                                           "\xF0\x9F\x98\x80",
                                           "\xE2\x80\x8D",
                                           "\r\n"};
  std::mt19937 random(20261124);
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
  std::uniform_int_distribution<int> length(0, 120);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int round = 0; round < 3000; ++round) {
    std::string valid;
    for (int i = length(random); i > 0; --i)
      valid += pieces[pick(random)];
    std::string output;
    BOOST_REQUIRE_NO_THROW(output = to_whatsapp(valid));
    // Valid UTF-8 stays valid: nothing is ever cut inside a character.
    BOOST_TEST_REQUIRE(is_valid_utf8(output), "round " << round << " input " << valid);

    std::string bytes;
    for (int i = length(random); i > 0; --i)
      bytes += static_cast<char>(byte(random));
    BOOST_REQUIRE_NO_THROW(output = to_whatsapp(bytes));
    BOOST_TEST_REQUIRE(output.size() <= bytes.size() + 8);
  }
}

BOOST_AUTO_TEST_CASE(large_adversarial_inputs_take_linear_time) {
  // 100 KB of each pattern that would make a naive matcher quadratic (unclosed openers, deep
  // brackets, markers everywhere). Quadratic work would take minutes; linear work takes
  // milliseconds, so the generous bound cannot be flaky.
  const char* const patterns[] = {"*a ", "**a",  "_a ",   "[",     "[a](", "`",           "`` ",
                                  "<",   "<b ",  "<!--",  "&",     "&#",   "~~",          "a*",
                                  "![",  "\\",   "> ",    "](u) ", "| a ", "https://x_ ", "(",
                                  "))",  "www.", "*a_b~", "***a_ "};
  const auto start = std::chrono::steady_clock::now();
  for (const char* pattern : patterns) {
    std::string text;
    while (text.size() < 100000)
      text += pattern;
    const std::string output = to_whatsapp(text);
    BOOST_TEST(output.size() <= text.size() + 8);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  BOOST_TEST(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count() < 20);
}

BOOST_AUTO_TEST_CASE(md4c_pathological_inputs_stay_fast) {
  // md4c's own pathological inputs and the ones md4c 0.4.8 is super-linear on (issues #172, #236,
  // #238, and tables as wide as the answer), just below the size md4c reads and well above it. A
  // release build takes well under a second for all of them; quadratic work would take seconds
  // each.
  const auto nested = [](std::string_view head, std::string_view open, std::string_view close,
                         std::size_t size) {
    std::string text(head);
    const std::size_t pairs = (size - head.size()) / (open.size() + close.size());
    for (std::size_t i = 0; i < pairs; ++i)
      text += open;
    text += 'a';
    for (std::size_t i = 0; i < pairs; ++i)
      text += close;
    return text;
  };
  const auto repeated = [](std::string_view head, std::string_view unit, std::size_t size) {
    std::string text(head);
    while (text.size() + unit.size() < size)
      text += unit;
    return text;
  };
  for (const std::size_t size : {std::size_t{32000}, std::size_t{100000}}) {
    const std::string inputs[] = {
        nested("[x]: /u\n\n", "[", "]", size),
        nested("[x]: /u\n\n", "[\n", "]", size),
        nested("", "*a **a ", " a** a*", size),
        nested("", "![", "](u)", size),
        repeated("", "]([\n", size),
        repeated("[x]: " + std::string(size / 2, 'x'), "\n[x]", size),
        repeated(repeated("", "th|", size / 3) + "\n" + repeated("", "-|", size / 3) + "\n", "td\n",
                 size),
        repeated("", "](", size) + "_",
        repeated("", "http://", size) + "_",
        repeated("", "* ", size / 2) + repeated("a\n", "b\n", size / 2),
    };
    for (const std::string& text : inputs) {
      BOOST_TEST_CONTEXT("size " << text.size() << ", starting " << text.substr(0, 40)) {
        const auto start = std::chrono::steady_clock::now();
        const std::string output = to_whatsapp(text);
        const auto elapsed = std::chrono::steady_clock::now() - start;
        BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() < 2000);
        BOOST_TEST(output.size() <= 8 * text.size());
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
