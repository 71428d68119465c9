#include "http/html_inject.h"

#include <gtest/gtest.h>

namespace sg::http {
namespace {

constexpr std::string_view kTag = "<script src=\"/s/t1/__sessiongate/register.js\"></script>";

// The document as the client gets it, fed in pieces of `step` bytes.
std::string inject(std::string_view doc, size_t step) {
  HtmlInjector in{std::string(kTag)};
  std::string out;
  for (size_t i = 0; i < doc.size(); i += step) in.feed(doc.substr(i, step), out);
  in.finish(out);
  EXPECT_TRUE(in.inserted());
  return out;
}

// Where the tag lands, as the document with "@" for it, whatever the reads are.
void expect_placed(std::string_view doc, std::string_view want) {
  std::string expected(want);
  expected.replace(expected.find('@'), 1, kTag);
  for (size_t step : {doc.size() + 1, size_t{1}, size_t{2}, size_t{3}, size_t{7}}) {
    EXPECT_EQ(inject(doc, step), expected) << doc << " in reads of " << step;
  }
}

TEST(HtmlInjector, AfterTheHeadTag) {
  expect_placed("<!doctype html><html lang=en><head><meta charset=utf-8></head><body>x",
                "<!doctype html><html lang=en><head>@<meta charset=utf-8></head><body>x");
  expect_placed("<HEAD>", "<HEAD>@");
  expect_placed("\xEF\xBB\xBF\n  <html>\n<head data-x=\"a>b\" y='>'>\n<title>",
                "\xEF\xBB\xBF\n  <html>\n<head data-x=\"a>b\" y='>'>@\n<title>");
  expect_placed("<?xml version=\"1.0\"?><!DOCTYPE html><html><head/>",
                "<?xml version=\"1.0\"?><!DOCTYPE html><html><head/>@");
}

TEST(HtmlInjector, BeforeTheFirstOtherTagOrTextWithoutAHead) {
  expect_placed("<!doctype html><html><body><p>hi", "<!doctype html><html>@<body><p>hi");
  expect_placed("<!DOCTYPE html><header>x</header>", "<!DOCTYPE html>@<header>x</header>");
  expect_placed("<html><meta charset=utf-8><title>t</title>",
                "<html>@<meta charset=utf-8><title>t</title>");
  expect_placed("  hello <b>world</b>", "  @hello <b>world</b>");
  expect_placed("<html></html>", "<html>@</html>");
  expect_placed("< not a tag", "@< not a tag");
  expect_placed("<hea", "<hea@");  // the body ended inside the name: appended
}

TEST(HtmlInjector, HeadInsideACommentOrAScriptIsNotTheHead) {
  expect_placed("<!-- <head> --><html><!----><!--><!---><head>",
                "<!-- <head> --><html><!----><!--><!---><head>@");
  expect_placed("<script>document.write('<head>')</script><head>",
                "@<script>document.write('<head>')</script><head>");
  expect_placed("<!-- a -- b -> c --><body>", "<!-- a -- b -> c -->@<body>");
}

TEST(HtmlInjector, NoHtmlAtAllGetsItAtTheEnd) {
  expect_placed("", "@");
  expect_placed(" \n\t", " \n\t@");
  expect_placed("<!-- never closed", "<!-- never closed@");
}

TEST(HtmlInjector, AfterThePlaceBytesPassAsTheyAre) {
  HtmlInjector in{std::string(kTag)};
  std::string out;
  in.feed("<head>", out);
  EXPECT_TRUE(in.settled());
  EXPECT_EQ(out, "<head>" + std::string(kTag));
  out.clear();
  in.feed("<head>again", out);
  in.finish(out);
  EXPECT_EQ(out, "<head>again") << "inserted once only";
}

TEST(HtmlInjector, HoldsAtMostALimitThenAppends) {
  const std::string comment = "<!--" + std::string(HtmlInjector::kMaxHeld, 'x');
  HtmlInjector in{std::string(kTag)};
  std::string out;
  in.feed(comment, out);
  EXPECT_TRUE(in.settled());
  EXPECT_FALSE(in.inserted());
  EXPECT_EQ(out, comment) << "everything held is released at the limit";
  out.clear();
  in.feed("--><head>", out);
  in.finish(out);
  EXPECT_EQ(out, "--><head>" + std::string(kTag));
}

}  // namespace
}  // namespace sg::http
