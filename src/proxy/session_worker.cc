#include "proxy/session_worker.h"

#include "sg_embed_kSessionWorkerJs.h"
#include "sg_embed_kSessionWorkerRegisterJs.h"

namespace sg::proxy::session_worker {

std::string_view file(std::string_view rest) {
  if (rest.size() <= kDir.size()) return {};
  const std::string_view name = rest.substr(kDir.size());
  if (name == "register.js") return kSessionWorkerRegisterJs;
  if (name == "sw.js") return kSessionWorkerJs;
  return {};
}

std::string script_tag(std::string_view prefix, std::string_view id) {
  std::string tag;
  tag.reserve(64 + prefix.size() + id.size());
  tag.append("<script src=\"").append(prefix).append(id);
  tag.append(kDir).append("register.js\"></script>");
  return tag;
}

bool is_navigation(const http::RequestHead& req, bool wants_html) {
  if (req.method_id != http::Method::kGet || req.upgrade) return false;
  const std::string_view dest = req.header("sec-fetch-dest");
  if (!dest.empty()) return http::iequals(dest, "document") || http::iequals(dest, "iframe");
  return wants_html;
}

PageFit page_fit(const http::ResponseHead& res) {
  if (res.status != 200 || res.framing == http::Framing::kNone) return PageFit::kNotAPage;
  const std::string_view type = res.header("content-type");
  const bool html = type.size() >= 9 && http::iequals(type.substr(0, 9), "text/html") &&
                    (type.size() == 9 || type[9] == ';' || type[9] == ' ');
  if (!html) return PageFit::kNotAPage;
  const std::string_view coding = res.header("content-encoding");
  if (!coding.empty() && !http::iequals(coding, "identity")) return PageFit::kEncoded;
  return PageFit::kFits;
}

}  // namespace sg::proxy::session_worker
