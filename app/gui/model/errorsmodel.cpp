#include "errorsmodel.h"

#include "workerlabel.h"

#include "statusstyle.h"

#include <QBrush>
#include <QFont>
#include <QHash>
#include <QPalette>

namespace taskbench::gui {

ErrorsModel::ErrorsModel(FuturesModel *futures, QObject *parent)
    : QAbstractItemModel(parent)
    , m_futures(futures)
{
    connect(futures, &FuturesModel::errorsChanged, this, &ErrorsModel::refresh);
    refresh();
}

void ErrorsModel::refresh()
{
    if (m_revision == m_futures->errorsRevision())
        return;
    m_revision = m_futures->errorsRevision();
    beginResetModel();
    rebuild();
    endResetModel();
}

void ErrorsModel::rebuild()
{
    m_nodes.clear();
    m_top.clear();
    QHash<QString, int> groups;    // error type -> node
    QHash<QString, int> rootByKey; // root key -> node
    const auto &rows = m_futures->rows();
    auto groupNode = [&](const QString &type) {
        auto it = groups.constFind(type);
        if (it != groups.constEnd())
            return *it;
        Node g;
        g.kind = GroupNode;
        g.name = type;
        g.row = int(m_top.size());
        m_nodes.push_back(std::move(g));
        const int n = int(m_nodes.size()) - 1;
        m_top.push_back(n);
        groups.insert(type, n);
        return n;
    };
    auto addChild = [&](int parent, Node node) {
        node.parent = parent;
        node.row = int(m_nodes[std::size_t(parent)].children.size());
        m_nodes.push_back(std::move(node));
        const int n = int(m_nodes.size()) - 1;
        m_nodes[std::size_t(parent)].children.push_back(n);
        return n;
    };
    // Root causes first, so cascades can find their parent.
    for (const FutureRow &r : rows) {
        if (r.status != FutureStatus::Error || !r.hasError() || r.fromDependency)
            continue;
        const int g = groupNode(r.errorType().isEmpty() ? tr("Error") : r.errorType());
        Node n;
        n.kind = RootNode;
        n.id = r.id;
        const int idx = addChild(g, std::move(n));
        rootByKey.insert(r.key, idx);
        ++m_nodes[std::size_t(g)].tasks;
        ++m_nodes[std::size_t(g)].roots;
    }
    for (const FutureRow &r : rows) {
        if (r.status != FutureStatus::Error || !r.hasError() || !r.fromDependency)
            continue;
        Node n;
        n.kind = CascadeNode;
        n.id = r.id;
        auto root = rootByKey.constFind(r.rootKey());
        int group;
        if (root != rootByKey.constEnd()) {
            group = m_nodes[std::size_t(*root)].parent;
            addChild(*root, std::move(n));
        } else {
            group = groupNode(r.errorType().isEmpty() ? tr("Error") : r.errorType());
            addChild(group, std::move(n));
        }
        ++m_nodes[std::size_t(group)].tasks;
    }
}

const ErrorsModel::Node *ErrorsModel::nodeOf(const QModelIndex &index) const
{
    if (!index.isValid())
        return nullptr;
    const quintptr id = index.internalId();
    if (id == 0 || id > m_nodes.size())
        return nullptr;
    return &m_nodes[id - 1];
}

QModelIndex ErrorsModel::index(int row, int column, const QModelIndex &parent) const
{
    if (row < 0 || column < 0 || column >= ColumnCount)
        return {};
    if (!parent.isValid()) {
        if (row >= int(m_top.size()))
            return {};
        return createIndex(row, column, quintptr(m_top[std::size_t(row)] + 1));
    }
    const Node *p = nodeOf(parent);
    if (!p || row >= int(p->children.size()))
        return {};
    return createIndex(row, column, quintptr(p->children[std::size_t(row)] + 1));
}

QModelIndex ErrorsModel::parent(const QModelIndex &child) const
{
    const Node *n = nodeOf(child);
    if (!n || n->parent < 0)
        return {};
    const Node &p = m_nodes[std::size_t(n->parent)];
    return createIndex(p.row, 0, quintptr(n->parent + 1));
}

int ErrorsModel::rowCount(const QModelIndex &parent) const
{
    if (!parent.isValid())
        return int(m_top.size());
    if (parent.column() > 0)
        return 0;
    const Node *p = nodeOf(parent);
    return p ? int(p->children.size()) : 0;
}

int ErrorsModel::columnCount(const QModelIndex &) const
{
    return ColumnCount;
}

QVariant ErrorsModel::data(const QModelIndex &index, int role) const
{
    const Node *n = nodeOf(index);
    if (!n)
        return {};
    if (n->kind == GroupNode) {
        switch (role) {
        case Qt::DisplayRole:
            if (index.column() == Task) {
                QString s = tr("%1 — %n task(s)", nullptr, n->tasks).arg(n->name);
                if (n->roots != n->tasks)
                    s += tr(", %n root cause(s)", nullptr, n->roots);
                return s;
            }
            return {};
        case Qt::DecorationRole:
            return index.column() == Task ? statusIcon(FutureStatus::Error) : QVariant();
        case Qt::FontRole: {
            QFont f;
            f.setBold(true);
            return f;
        }
        case KindRole:
            return int(GroupNode);
        case GroupNameRole:
            return n->name;
        default:
            return {};
        }
    }
    const FutureRow *r = m_futures->row(n->id);
    if (!r)
        return {};
    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case Task:
            return r->key;
        case Function:
            return r->function;
        case Message:
            return n->kind == CascadeNode ? tr("because %1 failed").arg(r->rootKey())
                                          : r->errorMessage();
        case Arguments:
            return r->arguments();
        case Worker:
            return workerLabel(r->worker);
        case Attempts:
            return r->attempts;
        }
        return {};
    case Qt::ToolTipRole:
        return r->errorType() + QStringLiteral(": ") + r->errorMessage()
               + (n->kind == CascadeNode
                      ? tr("\nCascade: erred because %1 failed.").arg(r->rootKey())
                      : tr("\nRoot cause."));
    case Qt::ForegroundRole:
        if (n->kind == CascadeNode)
            return QBrush(QPalette().color(QPalette::Disabled, QPalette::Text));
        return {};
    case Qt::DecorationRole:
        if (index.column() == Task && n->kind == RootNode)
            return statusIcon(FutureStatus::Error);
        return {};
    case IdRole:
        return quint64(n->id);
    case KindRole:
        return int(n->kind);
    default:
        return {};
    }
}

QVariant ErrorsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    static const char *const names[ColumnCount]
        = {"Task", "Function", "Message", "Arguments", "Worker", "Attempts"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

std::vector<std::uint64_t> ErrorsModel::allErred() const
{
    std::vector<std::uint64_t> out;
    for (const FutureRow &r : m_futures->rows())
        if (r.status == FutureStatus::Error)
            out.push_back(r.id);
    return out;
}

std::vector<std::uint64_t> ErrorsModel::rootCauses() const
{
    std::vector<std::uint64_t> out;
    for (const Node &n : m_nodes)
        if (n.kind == RootNode)
            out.push_back(n.id);
    return out;
}

int ErrorsModel::cascadeCount() const
{
    int c = 0;
    for (const Node &n : m_nodes)
        c += n.kind == CascadeNode;
    return c;
}

std::vector<std::uint64_t> ErrorsModel::idsUnder(const QModelIndex &index) const
{
    std::vector<std::uint64_t> out;
    const Node *n = nodeOf(index.siblingAtColumn(0));
    if (!n)
        return out;
    std::vector<const Node *> stack{n};
    while (!stack.empty()) {
        const Node *x = stack.back();
        stack.pop_back();
        if (x->kind != GroupNode)
            out.push_back(x->id);
        for (int c : x->children)
            stack.push_back(&m_nodes[std::size_t(c)]);
    }
    return out;
}

} // namespace taskbench::gui
