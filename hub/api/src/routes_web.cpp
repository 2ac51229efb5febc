// The dashboard's files: GET / is <web_dir>/index.html, GET /web/<name> a file of that directory
// (one level, a name of letters, digits, '_' and '-' with a known extension, so no path can leave
// it), and GET /web/vendor/ the uPlot files npm installed under <web_dir>/node_modules. They hold
// no data, so they need no token; the pages call the API with the token the person gives.
#include <fstream>
#include <regex>
#include <sstream>

#include "http_util.hpp"
#include "server_impl.hpp"

namespace vigil::hub {

namespace {

struct Extension {
    const char* suffix;
    const char* content_type;
};

constexpr Extension kExtensions[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
};

const char* content_type_of(const std::string& name) {
    for (const Extension& extension : kExtensions) {
        const std::string suffix = extension.suffix;
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            return extension.content_type;
        }
    }
    return "application/octet-stream";
}

bool read_file(const std::string& path, std::string& content) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return false;
    }
    std::ostringstream text;
    text << in.rdbuf();
    content = text.str();
    return !in.bad();
}

constexpr char kUplotDist[] = "/node_modules/uplot/dist/";

}  // namespace

std::string dashboard_missing(const std::string& web_dir) {
    if (web_dir.empty()) {
        return "this vigil-hub serves no dashboard: no web directory is set (--web-dir)";
    }
    std::string missing;
    if (!std::ifstream(web_dir + "/index.html")) {
        missing = web_dir + "/index.html";
    } else if (!std::ifstream(web_dir + kUplotDist + "uPlot.iife.min.js")) {
        missing = web_dir + kUplotDist + "uPlot.iife.min.js";
    } else {
        return "";
    }
    return "the dashboard is not installed: " + missing +
           " is missing. The dashboard's pages are the hub/web directory of the source tree "
           "(--web-dir names another); `npm ci --prefix hub/web` installs uPlot, which its "
           "charts need.";
}

void ApiServer::Impl::add_web_routes() {
    route("GET", "/", "/", [this](const HttpRequest&, HttpResponse& res) {
        serve_web_file(settings_.web_dir + "/index.html", "index.html", res);
    });
    route("GET", "/web/vendor/uPlot.iife.min.js", "/web/vendor/{name}",
          [this](const HttpRequest&, HttpResponse& res) {
              serve_web_file(settings_.web_dir + kUplotDist + "uPlot.iife.min.js",
                             "uPlot.iife.min.js", res);
          });
    route("GET", "/web/vendor/uPlot.min.css", "/web/vendor/{name}",
          [this](const HttpRequest&, HttpResponse& res) {
              serve_web_file(settings_.web_dir + kUplotDist + "uPlot.min.css", "uPlot.min.css",
                             res);
          });
    route("GET", "/web/(.*)", "/web/{name}", [this](const HttpRequest& req, HttpResponse& res) {
        static const std::regex kName("[A-Za-z0-9_-]+\\.(html|js|css|svg|png)");
        const std::string name = req.matches[1];
        if (!std::regex_match(name, kName)) {
            api::send_error(res, 404, "not_found",
                            "the dashboard has no file '" + name +
                                "': names are letters, digits, '_' and '-' with .html, .js, "
                                ".css, .svg or .png");
            return;
        }
        serve_web_file(settings_.web_dir + "/" + name, name, res);
    });
}

void ApiServer::Impl::serve_web_file(const std::string& path, const std::string& name,
                                     HttpResponse& res) {
    std::string content;
    if (settings_.web_dir.empty() || !read_file(path, content)) {
        const std::string why = dashboard_missing(settings_.web_dir);
        res.status = 404;
        res.set_content((why.empty() ? "the dashboard has no file " + path : why) + "\n",
                        "text/plain; charset=utf-8");
        return;
    }
    res.status = 200;
    // Checked with the hub on every load, so a changed page is never served stale.
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::move(content), content_type_of(name));
}

}  // namespace vigil::hub
