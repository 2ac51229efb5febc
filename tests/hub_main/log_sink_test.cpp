// The hub's log sink: whatever a device puts in a line, one line comes out, in printable text that
// says exactly which bytes were there.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "log_sink.hpp"

namespace vigil::hub {
namespace {

TEST(LogSink, Escape_keepsPrintableTextAndUtf8AsItIs) {
    EXPECT_EQ(escape_log_text("rejected a message on devices/gw-7/x: malformed"),
              "rejected a message on devices/gw-7/x: malformed");
    EXPECT_EQ(escape_log_text("capteur \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92"),
              "capteur \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92");
}

TEST(LogSink, Escape_newlinesAndControlBytesCannotForgeALine) {
    EXPECT_EQ(escape_log_text("1.0\n2026-01-01T00:00:00.000 vigil-hub: forged"),
              "1.0\\n2026-01-01T00:00:00.000 vigil-hub: forged");
    EXPECT_EQ(escape_log_text("a\rb\tc"), "a\\rb\\tc");
    EXPECT_EQ(escape_log_text(std::string("a\0b", 3)), "a\\x00b");
    EXPECT_EQ(escape_log_text("\x1b[2J\x7f"), "\\x1b[2J\\x7f");
    // The escape character itself, so that "\\n" in device text never reads as an escape.
    EXPECT_EQ(escape_log_text("a\\nb"), "a\\\\nb");
}

TEST(LogSink, Escape_bytesThatAreNotUtf8AreWrittenAsHex) {
    EXPECT_EQ(escape_log_text("\xff\xfe"), "\\xff\\xfe");
    EXPECT_EQ(escape_log_text("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
    EXPECT_EQ(escape_log_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a surrogate
    EXPECT_EQ(escape_log_text("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
    EXPECT_EQ(escape_log_text("ok\xe2\x82"), "ok\\xe2\\x82");                // cut short at the end
}

TEST(LogSink, Escape_codePointsThatDisguiseTextAreNamed) {
    EXPECT_EQ(escape_log_text("\xc2\x85"), "\\u{0085}");  // NEL
    EXPECT_EQ(escape_log_text("a\xe2\x80\xa8"
                              "b"),
              "a\\u{2028}b");  // line separator
    EXPECT_EQ(escape_log_text("\xe2\x80\xae"
                              "txt.exe"),
              "\\u{202e}txt.exe");  // right-to-left
    EXPECT_EQ(escape_log_text("\xe2\x81\xa6"), "\\u{2066}");
}

// The sink writes to stderr: read it back through a pipe.
std::string written_by(LogSink& sink, const std::string& line) {
    int pipe_fds[2];
    EXPECT_EQ(pipe(pipe_fds), 0);
    std::fflush(stderr);
    const int saved = dup(2);
    dup2(pipe_fds[1], 2);
    sink.write(line);
    std::fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(pipe_fds[1]);
    std::string out;
    char buffer[4096];
    ssize_t got = 0;
    while ((got = read(pipe_fds[0], buffer, sizeof buffer)) > 0) {
        out.append(buffer, static_cast<size_t>(got));
    }
    close(pipe_fds[0]);
    return out;
}

TEST(LogSink, Write_oneLineWhateverTheText) {
    LogSink sink;
    const std::string out = written_by(sink, "ingest: x\ny\0z");
    EXPECT_EQ(out.find('\n'), out.size() - 1) << out;
    EXPECT_NE(out.find(" vigil-hub: ingest: x\\ny"), std::string::npos) << out;
    EXPECT_EQ(sink.lines_cut(), 0u);
}

TEST(LogSink, Write_cutsALongLineNeverInsideACharacter) {
    LogSink sink;
    sink.set_max_line_bytes(256);
    std::string line(255, 'a');
    line += "\xc3\xa9\xc3\xa9 and more";
    const std::string out = written_by(sink, line);
    EXPECT_NE(out.find(std::string(255, 'a') + " [" + std::to_string(line.size() - 255) +
                       " bytes cut]\n"),
              std::string::npos)
        << out;
    EXPECT_EQ(sink.lines_cut(), 1u);
    // Unescaped, control bytes count as what they become.
    const std::string escaped = written_by(sink, std::string(200, '\n'));
    EXPECT_NE(escaped.find("bytes cut]"), std::string::npos);
    EXPECT_EQ(sink.lines_cut(), 2u);
}

}  // namespace
}  // namespace vigil::hub
