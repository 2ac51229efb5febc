// tokens: list the API's tokens, create one (add) or revoke one.
#include <memory>

#include "commands.hpp"
#include "output.hpp"

namespace vigil::cli {

namespace {

struct TokenOptions {
    std::string add_name, role, revoke_name;
};

int list_tokens(const Context& context) {
    return request(context, "GET", "/api/tokens", "", [](const nlohmann::json& body) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& token : body["tokens"]) {
            rows.push_back(
                {text(token["name"]), text(token["role"]), time_text(token["created_ms"]),
                 token["last_used_ms"].is_null() ? "never" : time_text(token["last_used_ms"])});
        }
        print_table({"NAME", "ROLE", "CREATED", "LAST USED"}, rows);
    });
}

int add_token(const Context& context, const TokenOptions& options) {
    const nlohmann::json body = {{"name", options.add_name}, {"role", options.role}};
    return request(context, "POST", "/api/tokens", body.dump(), [](const nlohmann::json& t) {
        std::cout << "name   " << text(t["name"]) << "\nrole   " << text(t["role"]) << "\ntoken  "
                  << text(t["token"]) << "\n(the token is shown only this once)\n";
    });
}

int revoke_token(const Context& context, const std::string& name) {
    return request(
        context, "DELETE", "/api/tokens/" + url_encode(name), "",
        [&name](const nlohmann::json&) { std::cout << "token " << name << " revoked\n"; });
}

}  // namespace

void add_token_commands(CLI::App& app, Context& context) {
    const auto options = std::make_shared<TokenOptions>();
    CLI::App* tokens = app.add_subcommand("tokens", "List API tokens (or add/revoke one)");

    CLI::App* add = tokens->add_subcommand("add", "Create a token and print it (once)");
    add->add_option("name", options->add_name, "1-64 characters of A-Z a-z 0-9 . _ -")->required();
    add->add_option("--role", options->role, "read or admin")
        ->required()
        ->check(CLI::IsMember({"read", "admin"}));
    add->callback([&context, options] { context.exit_code = add_token(context, *options); });

    CLI::App* revoke = tokens->add_subcommand("revoke", "Revoke a token at once");
    revoke->add_option("name", options->revoke_name, "The token's name")->required();
    revoke->callback(
        [&context, options] { context.exit_code = revoke_token(context, options->revoke_name); });

    // A subcommand's callback runs before its parent's: the list only when none was given.
    tokens->callback([&context, tokens] {
        if (tokens->get_subcommands().empty()) {
            context.exit_code = list_tokens(context);
        }
    });
}

}  // namespace vigil::cli
