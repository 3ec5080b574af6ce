#include "submissionfollower.h"

#include "enginebridge.h"
#include "futuresmodel.h"
#include "futurestable.h"
#include "statusstyle.h"

namespace taskbench::gui {

SubmissionFollower::SubmissionFollower(EngineBridge *bridge,
                                       FuturesModel *model,
                                       FuturesTable *table,
                                       QObject *parent)
    : QObject(parent)
    , m_bridge(bridge)
    , m_model(model)
    , m_table(table)
{
    connect(bridge, &EngineBridge::submitted, this, &SubmissionFollower::onSubmitted);
    connect(bridge, &EngineBridge::submitFailed, this, [this](quint64 request, const QString &) {
        if (request == m_request) {
            m_request = 0;
            m_ids.clear();
        }
    });
    connect(model, &FuturesModel::statsChanged, this, &SubmissionFollower::trySelect);
}

void SubmissionFollower::follow(std::uint64_t request, const QString &verb)
{
    m_request = request;
    m_verb = verb;
    m_ids.clear();
}

void SubmissionFollower::onSubmitted(std::uint64_t request, const std::vector<std::uint64_t> &ids)
{
    if (request != m_request || m_request == 0)
        return;
    m_request = 0;
    m_ids = ids;
    trySelect();
}

void SubmissionFollower::trySelect()
{
    if (m_ids.empty())
        return;
    // A pure call that was already there has its row now; new futures get theirs with the
    // frame that adds them. Wait until the first and the last are in.
    if (m_model->rowOf(m_ids.front()) < 0 || m_model->rowOf(m_ids.back()) < 0)
        return;
    const std::vector<std::uint64_t> ids = std::move(m_ids);
    m_ids.clear();
    m_table->selectIds(ids);
    const FutureRow *first = m_model->row(ids.front());
    QString text;
    if (ids.size() == 1)
        text = tr("%1 %2: %3 (%4)")
                   .arg(m_verb, first->function, first->key, statusLabel(first->status));
    else
        text = tr("%1 %2 over %n input(s), first %3", nullptr, int(ids.size()))
                   .arg(m_verb, first->function, first->key);
    if (m_table->selectedIds().empty())
        text += tr("; hidden by the table's filter");
    m_last = text;
    emit announced(text);
}

} // namespace taskbench::gui
