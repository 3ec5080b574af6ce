#include "guilogsink.h"

#include "taskbench/logging.h"

#include <chrono>

namespace taskbench::gui {

void GuiLogSink::sink_it_(const spdlog::details::log_msg &msg)
{
    LogRecord r;
    r.timeUs = std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch())
                   .count();
    r.level = int(msg.level);
    r.source.assign(msg.logger_name.data(), msg.logger_name.size());
    r.text.assign(msg.payload.data(), msg.payload.size());
    m_inbox->push(std::move(r));
}

std::shared_ptr<LogInbox> installGuiLogSink()
{
    static std::shared_ptr<LogInbox> inbox;
    if (inbox)
        return inbox;
    inbox = std::make_shared<LogInbox>();
    auto sink = std::make_shared<GuiLogSink>(inbox);
    for (const char *name : {"engine", "plugins", "worker", "gui"}) {
        try {
            if (auto logger = taskbench::log::get(name))
                logger->sinks().push_back(sink);
        } catch (...) {
            // Logging must never stop the GUI from starting.
        }
    }
    return inbox;
}

} // namespace taskbench::gui
