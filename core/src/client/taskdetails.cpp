// What the scheduler knows of a task beyond Future's own accessors: its story, log lines,
// captured output and per-attempt figures, for one future or many at once. All of it lives
// on the scheduler thread, so each read is a query there.
#include "scheduler/engine_p.h"

#include <algorithm>

namespace taskbench {

using detail::TaskRecord;

namespace {

/// Reads the parts asked for of one task (on the scheduler thread).
void read(const TaskRecord &r, unsigned parts, TaskDetails &out)
{
    if (parts & TaskDetails::Story)
        out.story = r.history;
    if (r.extras) {
        if (parts & TaskDetails::Logs)
            out.logs = r.extras->logs;
        if (parts & TaskDetails::Output)
            out.output = r.extras->output;
        if (parts & TaskDetails::AttemptUsage)
            out.attemptUsage = r.extras->earlierUsage;
    }
    if ((parts & TaskDetails::AttemptUsage) && r.usageAttempt > 0)
        out.attemptUsage.push_back(AttemptFigures{r.usageAttempt, r.usage});
}

} // namespace

std::vector<TaskDetails> Client::details(const std::vector<Future> &futures,
                                         TaskDetails::Parts parts)
{
    std::vector<TaskDetails> out(futures.size());
    // Slices keep each pause of the scheduler short while it still runs other work.
    constexpr std::size_t kSlice = 4096;
    for (std::size_t begin = 0; begin < futures.size(); begin += kSlice) {
        const std::size_t end = std::min(futures.size(), begin + kSlice);
        m_engine->query([&] {
            for (std::size_t i = begin; i < end; ++i)
                if (const TaskRecord *r = m_engine->lookup(futures[i].id()))
                    read(*r, parts, out[i]);
        });
    }
    return out;
}

std::vector<Transition> Client::story(const Future &future)
{
    return std::move(details({future}, TaskDetails::Story).front().story);
}

std::vector<std::string> Client::logs(const Future &future)
{
    return std::move(details({future}, TaskDetails::Logs).front().logs);
}

std::vector<AttemptFigures> Client::attemptUsage(const Future &future)
{
    return std::move(details({future}, TaskDetails::AttemptUsage).front().attemptUsage);
}

std::string Client::output(const Future &future)
{
    return std::move(details({future}, TaskDetails::Output).front().output);
}

} // namespace taskbench
