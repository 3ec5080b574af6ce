// The per-component spdlog loggers. Every Taskbench logger writes to one shared dist_sink,
// so that redirecting output (useStderr) swaps the dist_sink's children under its own lock
// instead of editing each logger's sink vector while other threads log through it.
//
// spdlog throws when a name is registered twice; creation is serialised here, and a logger
// registered by someone else under the same name (the race the registry cannot exclude) is
// taken over rather than reported. Nothing in this file lets an exception escape.
#include "taskbench/logging.h"

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

namespace taskbench::log {

namespace {

struct Registry
{
    std::mutex mutex;
    std::shared_ptr<spdlog::sinks::dist_sink_mt> sink;
    std::vector<std::shared_ptr<spdlog::logger>> loggers;
    spdlog::level::level_enum level = spdlog::level::info;
};

Registry &registry()
{
    static Registry r;
    return r;
}

/// A logger without sinks, for the (out-of-memory) case where nothing else can be made.
std::shared_ptr<spdlog::logger> fallbackLogger()
{
    static const auto logger = [] {
        try {
            return std::make_shared<spdlog::logger>("taskbench");
        } catch (...) {
            return std::shared_ptr<spdlog::logger>();
        }
    }();
    return logger;
}

std::shared_ptr<spdlog::sinks::sink> makeStderrSink()
{
    return std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
}

} // namespace

std::shared_ptr<spdlog::logger> get(const std::string &component)
{
    try {
        Registry &r = registry();
        std::lock_guard lock(r.mutex);
        for (const auto &logger : r.loggers)
            if (logger->name() == component)
                return logger;
        if (!r.sink) {
            r.sink = std::make_shared<spdlog::sinks::dist_sink_mt>();
            r.sink->add_sink(makeStderrSink());
        }
        std::shared_ptr<spdlog::logger> logger = spdlog::get(component);
        if (!logger) {
            logger = std::make_shared<spdlog::logger>(component, r.sink);
            try {
                spdlog::register_logger(logger);
            } catch (const spdlog::spdlog_ex &) {
                // Registered meanwhile by code outside this file: use that one.
                if (auto existing = spdlog::get(component))
                    logger = std::move(existing);
            }
        }
        logger->set_level(r.level);
        r.loggers.push_back(logger);
        return logger;
    } catch (...) {
        return fallbackLogger();
    }
}

bool setLevel(const std::string &level)
{
    static const char *const names[]
        = {"trace", "debug", "info", "warn", "warning", "error", "err", "critical", "off"};
    if (std::find(std::begin(names), std::end(names), level) == std::end(names))
        return false;
    // from_str maps unknown names to "off", hence the check above.
    const auto parsed = spdlog::level::from_str(level);
    try {
        Registry &r = registry();
        std::lock_guard lock(r.mutex);
        r.level = parsed;
        for (const auto &logger : r.loggers)
            logger->set_level(parsed);
    } catch (...) {
        return false;
    }
    return true;
}

void useStderr()
{
    try {
        Registry &r = registry();
        std::lock_guard lock(r.mutex);
        if (!r.sink)
            r.sink = std::make_shared<spdlog::sinks::dist_sink_mt>();
        r.sink->set_sinks({makeStderrSink()});
        // A logger adopted from elsewhere has its own sinks; point it at ours too. Only
        // loggers this file did not create are touched, and only under the registry lock.
        for (const auto &logger : r.loggers) {
            auto &sinks = logger->sinks();
            if (sinks.size() != 1 || sinks.front() != r.sink)
                sinks.assign(1, r.sink);
        }
    } catch (...) {
        // Logging configuration failing must not take the caller down.
    }
}

} // namespace taskbench::log
