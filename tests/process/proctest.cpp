// The "proctest" plugin: what the process-worker tests need beyond bench and faults — a task
// that prints through every route (stdio, iostreams, raw write), one that prints and dies,
// results of a chosen size, and an identity function. Built next to the tests, never into
// build/plugins.
#include <taskbench/sdk.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <unistd.h>

namespace {

std::int64_t print(const std::string &text)
{
    std::printf("out:%s\n", text.c_str());
    std::fprintf(stderr, "err:%s\n", text.c_str());
    std::cout << "cout:" << text << std::endl;
    const std::string raw = "raw:" + text + "\n";
    [[maybe_unused]] const ssize_t n = ::write(1, raw.data(), raw.size());
    return std::int64_t(text.size());
}

taskbench::Bytes makeBytes(std::int64_t n)
{
    if (n < 0)
        throw taskbench::sdk::TaskException("ValueError", "n must be >= 0");
    taskbench::Bytes b;
    b.data.resize(std::size_t(n));
    for (std::size_t i = 0; i < b.data.size(); ++i)
        b.data[i] = std::uint8_t(i * 31 + 7);
    return b;
}

[[noreturn]] void printAndAbort(const std::string &text)
{
    std::fprintf(stderr, "%s\n", text.c_str());
    std::abort();
}

taskbench::Value echo(taskbench::Value v)
{
    return v;
}

} // namespace

TASKBENCH_PLUGIN("proctest", "1.0", "Helpers for the process-worker tests")
{
    plugin.def("print", &print, {"text"}, "Print text to stdout and stderr in four ways.");
    plugin.def("make_bytes", &makeBytes, {"n"}, "Return n deterministic bytes.");
    plugin.def("echo", &echo, {"x"}, "Return x unchanged.");
    plugin.def("print_and_abort",
               &printAndAbort,
               {"text"},
               "Print text to stderr, then abort (the worker dies with SIGABRT).");
}
