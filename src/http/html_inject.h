// Inserts one snippet (a <script> tag) near the top of an HTML document as it streams by:
// right after <head ...> when the document starts with one (after any doctype, comments and
// <html>), else before the first other tag or text. Nothing is parsed beyond that point, and
// nothing is held back afterwards: the rest of the body passes through as it arrives.
//
// Until the place is found the bytes are held (at most kMaxHeld, then the snippet goes at the
// end of the body instead), so a `<hea` split across two reads is still recognised.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sg::http {

class HtmlInjector {
 public:
  static constexpr size_t kMaxHeld = 64 * 1024;

  explicit HtmlInjector(std::string snippet) : snippet_(std::move(snippet)) {}

  // Appends to `out` what may go to the client now that `in` has arrived: nothing while the
  // place is still being looked for, then everything held with the snippet in its place.
  void feed(std::string_view in, std::string& out);
  // The body ended: whatever is still held, and the snippet at the end if it found no place.
  void finish(std::string& out);
  // True once nothing is held any more: later bytes can be passed on as they are (finish()
  // may still append the snippet, when no place was found).
  bool settled() const { return state_ == State::kSettled; }
  bool inserted() const { return inserted_; }

 private:
  enum class State : unsigned char {
    kText,     // between tags, before anything that decides
    kTagOpen,  // just after '<'
    kBang,     // "<!": a comment or a declaration
    kName,     // a start tag's name
    kInTag,    // attributes of <html> or <head>, up to '>'
    kQuoted,   // an attribute value in quotes
    kComment,  // "<!--" up to "-->"
    kDecl,     // "<!DOCTYPE ...>" or "<?...>" up to '>'
    kSettled,  // the snippet is placed (or will be appended at the end)
  };
  // Places the snippet before held_[at] and releases everything held.
  void insert_at(size_t at, std::string& out);
  void give_up(std::string& out);
  void scan(std::string& out);

  std::string snippet_;
  std::string held_;
  size_t pos_ = 0;        // next byte of held_ to look at
  size_t tag_start_ = 0;  // the '<' of the tag being read
  size_t name_start_ = 0;
  bool head_ = false;  // the tag being read is <head>
  char quote_ = 0;
  bool inserted_ = false;
  State state_ = State::kText;
};

}  // namespace sg::http
