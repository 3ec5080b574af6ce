// The plugins dock: a tree of plugins and their task functions (signature, doc, version),
// the libraries that were refused with the reason, "Load plugin…" and "Reload". A library
// rebuilt on disk is flagged and offered for reload.
#pragma once

#include <QWidget>

class QLabel;
class QPushButton;
class QToolButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace taskbench::gui {

class EngineBridge;

class PluginsPanel : public QWidget
{
    Q_OBJECT
public:
    explicit PluginsPanel(EngineBridge *bridge, QWidget *parent = nullptr);

    QTreeWidget *tree() const { return m_tree; }
    /// Rebuilds the tree from the bridge's plugins and refusals.
    void refresh();
    /// The function selected in the tree ("" when a plugin or nothing is selected).
    QString currentFunction() const;
    /// Paths refused, as shown (tests).
    QStringList refusedPaths() const;

public slots:
    void loadPluginDialog();
    /// Reloads the changed libraries (or the selected plugin's library).
    void reload();

signals:
    void functionSelected(const QString &qualifiedName);
    void functionActivated(const QString &qualifiedName);

private:
    void markChanged(const QString &path);

    EngineBridge *m_bridge;
    QTreeWidget *m_tree;
    QLabel *m_info;
    QWidget *m_banner;
    QLabel *m_bannerText;
    QPushButton *m_bannerReload;
    QToolButton *m_load;
    QToolButton *m_reload;
    QStringList m_changed;
};

} // namespace taskbench::gui
