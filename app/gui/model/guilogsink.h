// An spdlog sink that hands formatted log records to the GUI thread through a BatchInbox.
// It never touches widgets: the log model drains the inbox once per frame.
#pragma once

#include "batchinbox.h"

#include <spdlog/sinks/base_sink.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace taskbench::gui {

struct LogRecord
{
    std::int64_t timeUs = 0;
    int level = 2;      ///< spdlog::level::level_enum
    std::string source; ///< logger name ("engine", "plugins"), or "task"
    std::string task;   ///< task key for task log lines
    std::string text;
};

using LogInbox = BatchInbox<LogRecord>;

class GuiLogSink : public spdlog::sinks::base_sink<std::mutex>
{
public:
    explicit GuiLogSink(std::shared_ptr<LogInbox> inbox)
        : m_inbox(std::move(inbox))
    {}

protected:
    void sink_it_(const spdlog::details::log_msg &msg) override;
    void flush_() override {}

private:
    std::shared_ptr<LogInbox> m_inbox;
};

/// Adds a GUI sink to the named Taskbench loggers ("engine", "plugins", "worker", "gui") and
/// returns the inbox it fills. Call once at start-up, before the engine logs.
std::shared_ptr<LogInbox> installGuiLogSink();

} // namespace taskbench::gui
