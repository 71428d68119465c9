// Local pages: templates filled in, every interpolated value escaped for its context (an
// unescaped session id, detail or template value would be an XSS), JSON for programs.
#include "http/pages.h"

#include <gtest/gtest.h>

namespace sg::http {
namespace {

std::string render(const Page& p, bool html, const std::string* tmpl = nullptr) {
  std::string body;
  render_page_body(p, html, tmpl, body);
  return body;
}

TEST(Escaping, HtmlEscapesEveryCharacterThatCanLeaveItsContext) {
  std::string out;
  append_html_escaped(out, R"(<a href="x" onclick='y'>&amp;</a>)");
  EXPECT_EQ(out, "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
}

TEST(Escaping, JsonEscapesQuotesBackslashesAndEveryControlCharacter) {
  std::string in = "a\"b\\c";
  for (int c = 0; c < 0x20; ++c) in += static_cast<char>(c);
  in += "\x7f\xc3\xa9";  // DEL and UTF-8 pass through: both are valid in a JSON string
  std::string out;
  append_json_escaped(out, in);
  std::string want = "a\\\"b\\\\c";
  for (int c = 0; c < 0x20; ++c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\u%04x", c);
    want += buf;
  }
  want += "\x7f\xc3\xa9";
  EXPECT_EQ(out, want);
}

TEST(RenderPage, TemplateGetsEveryPlaceholderEscapedAndKeepsUnknownOnes) {
  Page p = make_page(503, "starting", "Starting <now>", "Wait & see", "d\"etail'");
  p.session = "s<1>";
  p.refresh = 2;
  const std::string tmpl =
      "<h1>{{title}}</h1>{{refresh_meta}}<p>{{message}}</p><i>{{detail}}</i><b>{{session}}</b>"
      "<u>{{status}}</u>{{unknown}}{{ unterminated";
  EXPECT_EQ(render(p, true, &tmpl),
            "<h1>Starting &lt;now&gt;</h1><meta http-equiv=\"refresh\" content=\"2\"><p>Wait "
            "&amp; see</p><i>d&quot;etail&#39;</i><b>s&lt;1&gt;</b><u>503</u>{{unknown}}{{ "
            "unterminated");
  EXPECT_EQ(page_content_type(true), "text/html; charset=utf-8");
  EXPECT_EQ(page_content_type(false), "application/json");
}

TEST(RenderPage, TemplateIsUsedOnlyForBrowsers) {
  Page p = make_page(404, "unknown_session", "Preview not found", "msg");
  const std::string tmpl = "<p>custom {{title}}</p>";
  EXPECT_EQ(render(p, false, &tmpl),
            "{\"status\":404,\"error\":\"unknown_session\",\"message\":\"msg\"}\n");
}

TEST(RenderPage, BuiltInHtmlEscapesTitleMessageSessionAndDetail) {
  Page p = make_page(403, "forbidden", "<t>", "<m>", "<d>");
  p.session = "<s>";
  const std::string body = render(p, true);
  EXPECT_EQ(body.find('<', body.find("<title>") + 7), body.find("</title>"));
  for (const char* raw : {"<t>", "<m>", "<d>", "<s>"}) EXPECT_EQ(body.find(raw), std::string::npos);
  EXPECT_NE(body.find("<code>&lt;s&gt;</code>"), std::string::npos);
  EXPECT_NE(body.find("<p>&lt;d&gt;</p>"), std::string::npos);
}

TEST(RenderPage, JsonCarriesDetailAndSessionEscaped) {
  Page p = make_page(400, "bad_request", "t", "m", "bad \"x\"\n");
  p.session = "s1";
  EXPECT_EQ(render(p, false),
            "{\"status\":400,\"error\":\"bad_request\",\"message\":\"m\",\"detail\":\"bad "
            "\\\"x\\\"\\u000a\",\"session\":\"s1\"}\n");
}

}  // namespace
}  // namespace sg::http
