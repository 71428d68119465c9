#include "http/pages.h"

#include <cstdio>

namespace sg::http {

std::string_view status_text(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 307:
      return "Temporary Redirect";
    case 304:
      return "Not Modified";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 417:
      return "Expectation Failed";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:  // RFC 9112 §4: the reason phrase may be empty; a made-up one would mislead
      return "";
  }
}

bool wants_html(std::string_view accept) {
  return accept.find("text/html") != std::string_view::npos;
}

void append_html_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
}

void append_json_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
}

namespace {

std::string refresh_meta(const Page& page) {
  if (page.refresh <= 0) return {};
  std::string meta =
      "<meta http-equiv=\"refresh\" content=\"" + std::to_string(page.refresh) + "\">";
  // A live page reloads when the router says so; the timed reload is for pages without JS.
  return page.live ? "<noscript>" + meta + "</noscript>" : meta;
}

// The live page's script: waits on the router with a long poll of the page's own URL (the
// router answers X-Sessiongate-Wait itself: it never reaches the container), shows the time
// waited and, in the router's words, what is happening; reloads once the state is ready.
constexpr std::string_view kLiveScript =
    "<p class=\"s\" id=\"sg-wait\" aria-live=\"polite\"></p><script>(()=>{"
    "const t0=Date.now(),el=document.getElementById('sg-wait'),"
    "what=document.getElementById('sg-what');"
    "const show=()=>{el.textContent='Waiting for '+Math.round((Date.now()-t0)/1000)+' s.';};"
    "setInterval(show,1000);show();"
    "const poll=async()=>{for(;;){try{const r=await fetch(location.href,{cache:'no-store',"
    "headers:{'X-Sessiongate-Wait':'1'}});const j=await r.json();"
    "if(j.state==='ready'||!r.ok){location.reload();return;}if(j.text)what.textContent=j.text;}"
    "catch(e){await new Promise(f=>setTimeout(f,2000));}}};poll();})();</script>";

// Unregisters the session worker whose scope covers this page: only sessiongate's (its script
// is <scope>__sessiongate/sw.js), never one the app registered itself.
constexpr std::string_view kForgetWorkerScript =
    "<script>navigator.serviceWorker&&navigator.serviceWorker.getRegistration(location.href)"
    ".then(r=>{const w=r&&(r.active||r.waiting||r.installing);"
    "if(w&&new URL(w.scriptURL).pathname===new URL(r.scope).pathname+'__sessiongate/sw.js')"
    "r.unregister();}).catch(()=>{});</script>";

void fill_template(const std::string& tmpl, const Page& page, std::string& body) {
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find("{{", i);
    if (open == std::string::npos) {
      body.append(tmpl, i, std::string::npos);
      break;
    }
    body.append(tmpl, i, open - i);
    size_t close = tmpl.find("}}", open + 2);
    if (close == std::string::npos) {
      body.append(tmpl, open, std::string::npos);
      break;
    }
    std::string_view key(tmpl.data() + open + 2, close - open - 2);
    if (key == "status") {
      body += std::to_string(page.status);
    } else if (key == "title") {
      append_html_escaped(body, page.title);
    } else if (key == "message") {
      append_html_escaped(body, page.message);
    } else if (key == "detail") {
      append_html_escaped(body, page.detail);
    } else if (key == "session") {
      append_html_escaped(body, page.session);
    } else if (key == "refresh_meta") {
      body += refresh_meta(page);
    } else {
      body.append(tmpl, open, close + 2 - open);
    }
    i = close + 2;
  }
}

}  // namespace

std::string_view page_content_type(bool html) {
  return html ? "text/html; charset=utf-8" : "application/json";
}

void render_page_body(const Page& page, bool html, const std::string* tmpl, std::string& body) {
  if (html && tmpl) {
    fill_template(*tmpl, page, body);
  } else if (html) {
    body.reserve(1024);
    body +=
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">";
    body += refresh_meta(page);
    body += "<title>";
    append_html_escaped(body, page.title);
    body +=
        "</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem "
        "auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}code{background:#f3f3f3;padding:"
        "0 .2rem}.s{color:#888}</style></head><body><h1>";
    append_html_escaped(body, page.title);
    body += "</h1><p>";
    append_html_escaped(body, page.message);
    body += "</p>";
    if (!page.session.empty()) {
      body += "<p>Session: <code>";
      append_html_escaped(body, page.session);
      body += "</code></p>";
    }
    if (page.live) {
      // What is happening, in words (the script keeps it current), then the time waited.
      body += "<p id=\"sg-what\">";
      append_html_escaped(body, page.detail);
      body += "</p>";
      body += kLiveScript;
    } else if (!page.detail.empty()) {
      body += "<p>";
      append_html_escaped(body, page.detail);
      body += "</p>";
    }
    if (!page.live && page.refresh > 0) {
      body += "<p class=\"s\">This page reloads by itself.</p>";
    }
    if (page.offer_reload) body += "<p><a href=\"\">Try again</a></p>";
    if (page.forget_worker) body += kForgetWorkerScript;
    body += "<p class=\"s\">";
    body += std::to_string(page.status);
    body += " &middot; sessiongate</p></body></html>\n";
  } else {
    body += "{\"status\":";
    body += std::to_string(page.status);
    body += ",\"error\":\"";
    append_json_escaped(body, page.code);
    body += "\",\"message\":\"";
    append_json_escaped(body, page.message);
    body += "\"";
    if (!page.detail.empty()) {
      body += ",\"detail\":\"";
      append_json_escaped(body, page.detail);
      body += "\"";
    }
    if (!page.session.empty()) {
      body += ",\"session\":\"";
      append_json_escaped(body, page.session);
      body += "\"";
    }
    if (!page.state.empty()) {
      body += ",\"state\":\"";
      append_json_escaped(body, page.state);
      body += "\"";
    }
    if (page.retry_after > 0) {
      body += ",\"retry_after_ms\":";
      body += std::to_string(page.retry_after * 1000);
    }
    if (!page.request_id.empty()) {
      body += ",\"request_id\":\"";
      append_json_escaped(body, page.request_id);
      body += "\"";
    }
    body += "}\n";
  }
}

}  // namespace sg::http
