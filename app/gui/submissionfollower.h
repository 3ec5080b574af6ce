// Says where a Submit, Map or Reduce went, in places a screen reader reaches: once the new
// futures' rows are in the table (they arrive with the next event frame, after the answer
// to the request), they are selected, the first is made current and scrolled to, and one
// line ("Submitted tutorial.inc: inc-1f2e… (pending)") is announced. Selecting rows makes
// Qt send the table's selection events over the accessibility bus; the main window shows
// the line in the status bar label "Last action" (also its accessible description). A
// failed request is the form's business (its error label), not this class's.
#pragma once

#include <QObject>
#include <QString>

#include <cstdint>
#include <vector>

namespace taskbench::gui {

class EngineBridge;
class FuturesModel;
class FuturesTable;

class SubmissionFollower : public QObject
{
    Q_OBJECT
public:
    SubmissionFollower(EngineBridge *bridge,
                       FuturesModel *model,
                       FuturesTable *table,
                       QObject *parent = nullptr);

    /// Follows the futures of this request (`verb`: "Submitted", "Mapped", ...); an earlier
    /// request still waiting for its rows is dropped.
    void follow(std::uint64_t request, const QString &verb);
    /// The last announcement (empty before the first).
    QString lastAnnouncement() const { return m_last; }

signals:
    void announced(const QString &text);

private:
    void onSubmitted(std::uint64_t request, const std::vector<std::uint64_t> &ids);
    void trySelect();

    EngineBridge *m_bridge;
    FuturesModel *m_model;
    FuturesTable *m_table;
    std::uint64_t m_request = 0;
    QString m_verb;
    std::vector<std::uint64_t> m_ids; ///< answered, waiting for their rows
    QString m_last;
};

} // namespace taskbench::gui
