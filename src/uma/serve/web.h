// The web chat page that `uma serve` answers GET / with: one HTML file
// (src/uma/serve/web/chat.html, inline style and script, no outside URLs)
// compiled into the binary by cmake/embed_web_page.cmake, so the server
// never reads it from disk. It talks to the server's own /v1/models,
// /v1/chat/completions (streamed) and /health.
#pragma once

#include <string_view>

namespace uma::serve {

// The page's bytes (UTF-8 HTML).
std::string_view chat_page();

// Its Content-Security-Policy: the inline script and style allowed by their
// SHA-256 hashes (computed from the page at build time), requests only to
// the page's own origin, no frames, forms or base URL.
std::string_view chat_page_csp();

}  // namespace uma::serve
