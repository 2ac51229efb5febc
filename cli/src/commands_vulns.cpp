// vulns: the hub's vulnerability catalogs (the built-in one and its drop-ins), and a drop-in
// checked and installed from a file without a restart.
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "output.hpp"

namespace vigil::cli {

namespace {

/// Read whole before it is sent; the hub takes far less (its API's body limit).
constexpr std::uintmax_t kMaxCatalogFileBytes = 16 * 1024 * 1024;

struct Update {
    std::string file, name;
};

int list_catalogs(const Context& context) {
    return request(context, "GET", "/api/vulnerabilities", "", [](const nlohmann::json& body) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& f : body["files"]) {
            rows.push_back({text(f["name"]), f["built_in"] == true ? "built-in" : "drop-in",
                            text(f["entries"]),
                            f["error"].is_null() ? "in force" : text(f["error"])});
        }
        print_table({"FILE", "KIND", "ENTRIES", "STATE"}, rows);
    });
}

int update_catalog(const Context& context, const Update& update) {
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(update.file, ec);
    if (ec) {
        return fail("cannot read " + update.file + ": " + ec.message());
    }
    if (size > kMaxCatalogFileBytes) {
        return fail(update.file + " is larger than 16 MiB; no catalog is");
    }
    std::ifstream in(update.file, std::ios::binary);
    std::ostringstream contents;
    contents << in.rdbuf();
    if (!in) {
        return fail("cannot read " + update.file);
    }
    const std::string name =
        update.name.empty() ? std::filesystem::path(update.file).filename().string() : update.name;
    const Answer answer =
        call_hub(context.hub, "PUT", "/api/vulnerabilities/" + url_encode(name), contents.str());
    if (!answer.ok) {
        // Each error of the file where an editor jumps to it.
        if (answer.body.is_object() && answer.body.contains("errors") &&
            answer.body["errors"].is_array() && !answer.body["errors"].empty()) {
            for (const auto& error : answer.body["errors"]) {
                const int line = error.value("line", 0);
                std::cerr << update.file;
                if (line > 0) {
                    std::cerr << ":" << line << ":" << error.value("column", 0);
                }
                std::cerr << ": " << error.value("message", std::string()) << "\n";
            }
            return fail(name + " refused; nothing installed");
        }
        return fail(answer.message);
    }
    if (context.json) {
        std::cout << answer.body.dump(2) << "\n";
    } else {
        std::cout << "installed " << text(answer.body["name"]) << " ("
                  << text(answer.body["entries"]) << " entries); in force within a second\n";
    }
    return kOk;
}

}  // namespace

void add_vulns_commands(CLI::App& app, Context& context) {
    CLI::App* vulns = app.add_subcommand(
        "vulns", "The hub's vulnerability catalogs: list them, or install a drop-in");
    vulns->require_subcommand(0, 1);
    CLI::App* list =
        vulns->add_subcommand("list", "The built-in catalog and the drop-ins, with entry counts");
    list->callback([&context] { context.exit_code = list_catalogs(context); });

    const auto update = std::make_shared<Update>();
    CLI::App* install = vulns->add_subcommand(
        "update", "Check a catalog file against the schema and install it as a drop-in");
    install->add_option("file", update->file, "The catalog file (TOML, docs/recommend.md)")
        ->required();
    install->add_option("--name", update->name,
                        "The drop-in's name in the hub (default: the file's name, *.toml)");
    install->callback([&context, update] { context.exit_code = update_catalog(context, *update); });

    vulns->callback([&context, vulns] {
        if (vulns->get_subcommands().empty()) {
            context.exit_code = list_catalogs(context);
        }
    });
}

}  // namespace vigil::cli
