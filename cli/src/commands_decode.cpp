// decode: a message saved to a file, decoded locally by the hub's own decoders (no hub needed).
// The report's JSON is its only form, indented for people; --json prints it on one line, so
// that decoding many files gives one report per line (JSON Lines) for jq and log shippers.
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "commands.hpp"
#include "vigil/hub/decode.hpp"

namespace vigil::cli {

namespace {

struct DecodeOptions {
    std::string path;
    std::string format = "auto";
};

int decode_file(const Context& context, const DecodeOptions& options) {
    const std::string& name = options.format;
    const auto format = hub::parse_file_format(name == "defender" ? "legacy-defender" : name);
    if (!format) {
        return usage("unknown --format '" + name + "' (auto, vigil, defender, aws-json, aws-cbor)");
    }
    std::ifstream in(options.path, std::ios::binary);
    if (!in) {
        return fail("cannot read " + options.path);
    }
    const std::vector<uint8_t> payload((std::istreambuf_iterator<char>(in)),
                                       std::istreambuf_iterator<char>());
    const hub::DecodeOutcome outcome = hub::decode_file(payload, *format);
    if (!outcome.ok) {
        return fail(options.path + " does not decode as " + name + ": " + outcome.reason +
                    (outcome.detail.empty() ? "" : " (" + outcome.detail + ")"));
    }
    constexpr int kOneLine = -1;
    constexpr int kIndented = 2;
    std::cout << hub::to_json(outcome.report, context.json ? kOneLine : kIndented) << "\n";
    return kOk;
}

}  // namespace

void add_decode_command(CLI::App& app, Context& context) {
    const auto options = std::make_shared<DecodeOptions>();
    CLI::App* decode = app.add_subcommand(
        "decode", "Decode a saved message locally (no hub); --json prints it on one line");
    decode->add_option("file", options->path, "The payload file")->required();
    decode->add_option("--format", options->format,
                       "auto, vigil, defender, aws-json or aws-cbor (default auto)");
    decode->callback([&context, options] { context.exit_code = decode_file(context, *options); });
}

}  // namespace vigil::cli
