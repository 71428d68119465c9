#include "http/html_inject.h"

#include "http/message.h"

namespace sg::http {

namespace {

bool space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
bool letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool name_char(char c) {
  return letter(c) || (c >= '0' && c <= '9') || c == '-' || c == ':';
}
constexpr std::string_view kBom = "\xEF\xBB\xBF";

}  // namespace

void HtmlInjector::feed(std::string_view in, std::string& out) {
  if (state_ == State::kSettled) {
    out.append(in);
    return;
  }
  held_.append(in);
  scan(out);
  if (state_ != State::kSettled && held_.size() > kMaxHeld) give_up(out);
}

void HtmlInjector::finish(std::string& out) {
  if (state_ != State::kSettled) give_up(out);
  if (!inserted_) {
    out.append(snippet_);
    inserted_ = true;
  }
}

void HtmlInjector::insert_at(size_t at, std::string& out) {
  out.append(held_, 0, at).append(snippet_).append(held_, at);
  held_ = {};
  inserted_ = true;
  state_ = State::kSettled;
}

void HtmlInjector::give_up(std::string& out) {
  out.append(held_);
  held_ = {};
  state_ = State::kSettled;
}

// One pass over the bytes not looked at yet; returns when they run out or the place is found.
void HtmlInjector::scan(std::string& out) {
  while (pos_ < held_.size()) {
    const char c = held_[pos_];
    switch (state_) {
      case State::kText:
        if (c == '<') {
          tag_start_ = pos_;
          state_ = State::kTagOpen;
        } else if (pos_ == 0 && c == kBom[0]) {
          if (held_.size() < kBom.size()) return;  // wait: a BOM or text
          if (std::string_view(held_).substr(0, kBom.size()) != kBom) return insert_at(0, out);
          pos_ = kBom.size();
          continue;
        } else if (!space(c)) {
          return insert_at(pos_, out);  // text: the parser opens <head> implicitly here
        }
        break;
      case State::kTagOpen:
        if (c == '!') {
          state_ = State::kBang;
        } else if (c == '?') {
          state_ = State::kDecl;
        } else if (letter(c)) {
          name_start_ = pos_;
          state_ = State::kName;
          continue;  // the letter is part of the name
        } else {
          return insert_at(tag_start_, out);  // an end tag, or '<' as text
        }
        break;
      case State::kBang:
        if (pos_ + 1 >= held_.size()) return;  // "<!-" needs one more byte to decide
        if (c == '-' && held_[pos_ + 1] == '-') {
          pos_ += 2;
          state_ = State::kComment;
          continue;
        }
        state_ = State::kDecl;
        continue;
      case State::kName: {
        if (name_char(c)) {
          // Longer than "html" and "head": another element, decided without waiting for its end.
          if (pos_ - name_start_ >= 4) return insert_at(tag_start_, out);
          break;
        }
        const std::string_view name(held_.data() + name_start_, pos_ - name_start_);
        if (!space(c) && c != '/' && c != '>') return insert_at(tag_start_, out);
        if (iequals(name, "head")) {
          head_ = true;
        } else if (iequals(name, "html")) {
          head_ = false;
        } else {
          return insert_at(tag_start_, out);
        }
        state_ = State::kInTag;
        continue;  // the delimiter may be the '>'
      }
      case State::kInTag:
        if (c == '"' || c == '\'') {
          quote_ = c;
          state_ = State::kQuoted;
        } else if (c == '>') {
          if (head_) return insert_at(pos_ + 1, out);
          state_ = State::kText;
        }
        break;
      case State::kQuoted:
        if (c == quote_) state_ = State::kInTag;
        break;
      case State::kComment:
        // "-->" ends it; so do "<!-->" and "<!--->", which HTML closes at once.
        if (c == '>' &&
            (pos_ - tag_start_ == 4 || (held_[pos_ - 1] == '-' && held_[pos_ - 2] == '-'))) {
          state_ = State::kText;
        }
        break;
      case State::kDecl:
        if (c == '>') state_ = State::kText;
        break;
      case State::kSettled:
        return;
    }
    ++pos_;
  }
}

}  // namespace sg::http
