// The "files" plugin: the Dask tutorial's read-transform-write workflow. process_file reads a
// text file, transforms it (upper-case, with a header line counting the lines) and writes the
// result under a results folder, returning the destination path. Every file-system problem
// becomes TaskException("IOError", "<path>: <reason>"); nothing here may crash a worker.
#include <taskbench/sdk.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>

namespace {

namespace fs = std::filesystem;
using taskbench::sdk::TaskContext;
using taskbench::sdk::TaskException;

[[noreturn]] void ioError(const fs::path &path, const std::string &reason)
{
    throw TaskException("IOError", path.string() + ": " + reason);
}

std::string readText(const fs::path &path)
{
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec)
        ioError(path, ec.message());
    if (fs::is_directory(status))
        ioError(path, "is a directory");
    if (!fs::is_regular_file(status))
        ioError(path, "not a regular file");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        ioError(path, std::strerror(errno));
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad())
        ioError(path, "read error");
    return data;
}

std::string transform(const std::string &data)
{
    std::size_t lines = 0;
    std::string body;
    body.reserve(data.size());
    for (char c : data) {
        if (c == '\n')
            ++lines;
        body.push_back(c >= 'a' && c <= 'z' ? char(c - 'a' + 'A') : c);
    }
    if (!data.empty() && data.back() != '\n')
        ++lines; // a last line without newline still counts
    return "# " + std::to_string(lines) + (lines == 1 ? " line\n" : " lines\n") + body;
}

/// The tutorial writes to f"results/{filename}". A relative path without ".." keeps its
/// folders under the results folder; any other path (absolute, or escaping with "..") keeps
/// only its file name, so the result can never overwrite a file outside the results folder.
fs::path destinationFor(const fs::path &source, const fs::path &resultsDir)
{
    const fs::path normal = source.lexically_normal();
    bool escapes = normal.is_absolute();
    for (const fs::path &part : normal)
        escapes = escapes || part == "..";
    return resultsDir / (escapes ? normal.filename() : normal);
}

std::string processFile(const std::string &path, const std::string &resultsDir, TaskContext &ctx)
{
    if (path.empty())
        throw TaskException("IOError", "process_file: the path is empty");
    const fs::path source(path);
    const std::string text = transform(readText(source));
    if (ctx.cancelled())
        throw TaskException("CancelledError", "the task was cancelled");

    const fs::path destination = destinationFor(source, resultsDir.empty() ? "." : resultsDir);
    std::error_code ec;
    fs::create_directories(destination.parent_path(), ec);
    if (ec)
        ioError(destination.parent_path(), ec.message());
    std::ofstream out(destination, std::ios::binary | std::ios::trunc);
    if (!out)
        ioError(destination, std::strerror(errno));
    out.write(text.data(), std::streamsize(text.size()));
    out.close();
    if (!out)
        ioError(destination, "write error");
    ctx.log("wrote " + std::to_string(text.size()) + " bytes to " + destination.string());
    return destination.string();
}

} // namespace

TASKBENCH_PLUGIN("files", "1.0", "The tutorial's read-transform-write workflow")
{
    using taskbench::sdk::Param;
    plugin.def("process_file",
               &processFile,
               {"path", Param("results_dir", "results")},
               "Read the text file at path, upper-case it under a \"# N lines\" header and write "
               "it to results_dir/<path> (folders are created; an absolute path or one with "
               "\"..\" keeps only its file name). Return the destination path. A missing, "
               "unreadable or non-regular file fails with IOError(\"<path>: <reason>\").",
               // It reads and writes files: the result cache must not skip the write, nor
               // serve a result computed from another version of the file.
               {.cacheable = false});
}
