// The errors panel's model: erred futures grouped by error type. Under each type come the
// root causes (tasks whose own code failed); under each root cause come the tasks that erred
// only because it did (the cascade), so a user sees one problem, not fifty red rows.
// Rebuilt from the futures model when its set of errors changes (at most once per frame).
#pragma once

#include "futuresmodel.h"

#include <QAbstractItemModel>

#include <cstdint>
#include <vector>

namespace taskbench::gui {

class ErrorsModel : public QAbstractItemModel
{
    Q_OBJECT
public:
    enum Column { Task, Function, Message, Arguments, Worker, Attempts, ColumnCount };
    enum Kind { GroupNode, RootNode, CascadeNode };
    enum Role { IdRole = Qt::UserRole + 1, KindRole, GroupNameRole };

    explicit ErrorsModel(FuturesModel *futures, QObject *parent = nullptr);

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    /// Rebuilds if the futures model's errors changed since the last rebuild.
    void refresh();

    std::vector<std::uint64_t> allErred() const;
    std::vector<std::uint64_t> rootCauses() const;
    int cascadeCount() const;
    /// Task ids under an index: itself, or every task of a group / below a root cause.
    std::vector<std::uint64_t> idsUnder(const QModelIndex &index) const;

private:
    struct Node
    {
        Kind kind = GroupNode;
        int parent = -1; ///< node index, -1 for top level
        int row = 0;     ///< row within the parent
        std::uint64_t id = 0;
        QString name; ///< group: error type
        std::vector<int> children;
        int tasks = 0; ///< group: tasks below
        int roots = 0; ///< group: root causes below
    };
    void rebuild();
    const Node *nodeOf(const QModelIndex &index) const;

    FuturesModel *m_futures;
    std::vector<Node> m_nodes;
    std::vector<int> m_top;
    std::uint64_t m_revision = ~std::uint64_t(0);
};

} // namespace taskbench::gui
