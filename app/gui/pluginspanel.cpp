#include "pluginspanel.h"

#include "accessibletext.h"

#include "enginebridge.h"
#include "icons.h"
#include "statusstyle.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace taskbench::gui {

namespace {
constexpr int kFunctionRole = Qt::UserRole + 1;
constexpr int kPathRole = Qt::UserRole + 2;
constexpr int kInfoRole = Qt::UserRole + 3;

QString esc(const std::string &s)
{
    return QString::fromStdString(s).toHtmlEscaped();
}
} // namespace

PluginsPanel::PluginsPanel(EngineBridge *bridge, QWidget *parent)
    : QWidget(parent)
    , m_bridge(bridge)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);

    auto *bar = new QHBoxLayout;
    bar->setContentsMargins(6, 4, 6, 0);
    m_load = new QToolButton(this);
    m_load->setIcon(themedIcon(QStringLiteral("open")));
    m_load->setText(tr("Load plugin…"));
    m_load->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_load->setAccessibleName(tr("Load plugin"));
    m_load->setToolTip(tr("Load a plugin library from a file"));
    m_reload = new QToolButton(this);
    m_reload->setIcon(themedIcon(QStringLiteral("reload")));
    m_reload->setText(tr("Reload"));
    m_reload->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_reload->setAccessibleName(tr("Reload plugins"));
    m_reload->setToolTip(tr("Reload changed plugin libraries (or the selected plugin)"));
    bar->addWidget(m_load);
    bar->addWidget(m_reload);
    bar->addStretch(1);
    layout->addLayout(bar);

    m_banner = new QWidget(this);
    auto *bl = new QHBoxLayout(m_banner);
    bl->setContentsMargins(6, 2, 6, 2);
    m_bannerText = new QLabel(m_banner);
    m_bannerText->setWordWrap(true);
    m_bannerReload = new QPushButton(themedIcon(QStringLiteral("reload")), tr("Reload"), m_banner);
    m_bannerReload->setAccessibleName(tr("Reload changed plugins"));
    bl->addWidget(m_bannerText, 1);
    bl->addWidget(m_bannerReload);
    m_banner->setAutoFillBackground(true);
    QPalette pal = m_banner->palette();
    QColor bg = statusColor(FutureStatus::Cancelled);
    bg.setAlpha(60);
    pal.setColor(QPalette::Window, bg);
    m_banner->setPalette(pal);
    m_banner->hide();
    layout->addWidget(m_banner);

    m_tree = new QTreeWidget(this);
    m_tree->setAccessibleName(tr("Plugins"));
    m_tree->setAccessibleDescription(
        tr("Loaded plugins with their task functions, and refused libraries"));
    m_tree->setColumnCount(1);
    // Hidden, but assistive tools still read the header: Qt names an unlabelled one "1".
    m_tree->setHeaderLabels({tr("Plugins and functions")});
    m_tree->setHeaderHidden(true);
    m_tree->setUniformRowHeights(true);
    m_tree->setTextElideMode(Qt::ElideRight);
    m_tree->setExpandsOnDoubleClick(false);
    layout->addWidget(m_tree, 1);

    // The selected item's full description: signature and doc, or why a library was refused.
    m_info = new QLabel(this);
    m_info->setWordWrap(true);
    m_info->setTextFormat(Qt::RichText);
    m_info->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_info->setContentsMargins(6, 2, 6, 4);
    m_info->setMinimumHeight(m_info->fontMetrics().lineSpacing() * 3);
    m_info->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_info->setAccessibleName(tr("Plugin details"));
    layout->addWidget(m_info);
    setFocusProxy(m_tree);

    connect(m_load, &QToolButton::clicked, this, &PluginsPanel::loadPluginDialog);
    connect(m_reload, &QToolButton::clicked, this, &PluginsPanel::reload);
    connect(m_bannerReload, &QPushButton::clicked, this, &PluginsPanel::reload);
    connect(bridge->catalog(), &PluginCatalog::pluginsChanged, this, &PluginsPanel::refresh);
    connect(bridge->catalog(), &PluginCatalog::pluginFileChanged, this, &PluginsPanel::markChanged);
    connect(m_tree, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem *item) {
        setLabelText(m_info, item ? item->data(0, kInfoRole).toString() : QString());
        if (item && !item->data(0, kFunctionRole).toString().isEmpty())
            emit functionSelected(item->data(0, kFunctionRole).toString());
    });
    connect(m_tree, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem *item) {
        if (item && !item->data(0, kFunctionRole).toString().isEmpty())
            emit functionActivated(item->data(0, kFunctionRole).toString());
        else if (item)
            item->setExpanded(!item->isExpanded());
    });
    refresh();
}

void PluginsPanel::refresh()
{
    const QString current = m_tree->currentItem()
                                ? m_tree->currentItem()->data(0, kFunctionRole).toString()
                                : QString();
    m_tree->clear();
    QTreeWidgetItem *select = nullptr;
    for (const PluginRecord &p : m_bridge->catalog()->plugins()) {
        auto *item = new QTreeWidgetItem(m_tree);
        item->setText(0,
                      tr("%1 %2 — %n function(s)", nullptr, int(p.functions.size()))
                          .arg(QString::fromStdString(p.name), QString::fromStdString(p.version)));
        item->setIcon(0, themedIcon(QStringLiteral("plugin")));
        item->setToolTip(0, QString::fromStdString(p.path));
        item->setData(0, kPathRole, QString::fromStdString(p.path));
        item->setData(0,
                      kInfoRole,
                      QStringLiteral("<b>%1 %2</b><br>%3<br><small>%4</small>")
                          .arg(esc(p.name), esc(p.version), esc(p.description), esc(p.path)));
        for (const std::string &fname : p.functions) {
            FunctionPtr f = m_bridge->catalog()->function(QString::fromStdString(fname));
            auto *child = new QTreeWidgetItem(item);
            const QString sig
                = f ? QString::fromStdString(f->signature()) : QString::fromStdString(fname);
            const QString doc = f ? QString::fromStdString(f->doc) : QString();
            child->setText(0, sig);
            child->setIcon(0, themedIcon(QStringLiteral("function")));
            child->setToolTip(0, QStringLiteral("%1\n\n%2").arg(sig, doc));
            child->setData(0, kFunctionRole, QString::fromStdString(fname));
            child->setData(0, kPathRole, QString::fromStdString(p.path));
            child->setData(
                0,
                kInfoRole,
                QStringLiteral("<b>%1</b><br>%2<br><small>%3 %4</small>")
                    .arg(sig.toHtmlEscaped(), doc.toHtmlEscaped(), esc(p.name), esc(p.version)));
            if (QString::fromStdString(fname) == current || (current.isEmpty() && !select))
                select = child;
        }
        item->setExpanded(true);
    }
    if (!m_bridge->catalog()->refusals().empty()) {
        const QColor red = statusColor(FutureStatus::Error);
        auto *refused = new QTreeWidgetItem(m_tree);
        refused->setText(0,
                         tr("Refused libraries (%1)").arg(m_bridge->catalog()->refusals().size()));
        refused->setIcon(0, themedIcon(QStringLiteral("refused"), red));
        refused->setData(0, kInfoRole, tr("Libraries that could not be loaded, with the reason."));
        for (const PluginRefusal &r : m_bridge->catalog()->refusals()) {
            auto *child = new QTreeWidgetItem(refused);
            const QString name = QFileInfo(QString::fromStdString(r.path)).fileName();
            child->setText(0,
                           QStringLiteral("%1 — %2").arg(name, QString::fromStdString(r.reason)));
            child->setIcon(0, themedIcon(QStringLiteral("refused"), red));
            child->setForeground(0, red);
            child->setToolTip(0,
                              QStringLiteral("%1\n%2").arg(QString::fromStdString(r.path),
                                                           QString::fromStdString(r.reason)));
            child->setData(0, kPathRole, QString::fromStdString(r.path));
            child->setData(0,
                           kInfoRole,
                           QStringLiteral("<b>%1</b> was refused:<br>%2<br><small>%3</small>")
                               .arg(name.toHtmlEscaped(), esc(r.reason), esc(r.path)));
        }
        refused->setExpanded(true);
    }
    if (m_bridge->catalog()->plugins().empty() && m_bridge->catalog()->refusals().empty()) {
        auto *none = new QTreeWidgetItem(m_tree);
        none->setText(0, tr("No plugins found"));
        none->setData(
            0,
            kInfoRole,
            tr("Searched: %1")
                .arg(m_bridge->catalog()->folders().join(QStringLiteral(", ")).toHtmlEscaped()));
        none->setFlags(Qt::ItemIsEnabled);
    }
    if (select)
        m_tree->setCurrentItem(select);
    setLabelText(m_info,
                 m_tree->currentItem() ? m_tree->currentItem()->data(0, kInfoRole).toString()
                                       : QString());
}

QString PluginsPanel::currentFunction() const
{
    return m_tree->currentItem() ? m_tree->currentItem()->data(0, kFunctionRole).toString()
                                 : QString();
}

QStringList PluginsPanel::refusedPaths() const
{
    QStringList out;
    for (const PluginRefusal &r : m_bridge->catalog()->refusals())
        out << QString::fromStdString(r.path);
    return out;
}

void PluginsPanel::loadPluginDialog()
{
    const QString path
        = QFileDialog::getOpenFileName(this,
                                       tr("Load plugin"),
                                       m_bridge->catalog()->folders().value(0),
                                       tr("Plugin libraries (*.so *.dylib *.dll);;All files (*)"));
    if (!path.isEmpty())
        m_bridge->catalog()->load(path);
}

void PluginsPanel::markChanged(const QString &path)
{
    if (!m_changed.contains(path))
        m_changed << path;
    QStringList names;
    for (const QString &p : m_changed)
        names << QFileInfo(p).fileName();
    setLabelText(m_bannerText, tr("Changed on disk: %1").arg(names.join(QStringLiteral(", "))));
    m_banner->show();
}

void PluginsPanel::reload()
{
    QStringList paths = m_changed;
    if (paths.isEmpty() && m_tree->currentItem())
        paths << m_tree->currentItem()->data(0, kPathRole).toString();
    paths.removeAll(QString());
    m_changed.clear();
    m_banner->hide();
    if (paths.isEmpty()) {
        // Nothing specific: rescan the folders (new libraries are picked up).
        m_bridge->catalog()->scan();
        return;
    }
    // The registry replaces the functions; tasks already running keep the old code alive.
    for (const QString &p : paths)
        m_bridge->catalog()->load(p);
}

} // namespace taskbench::gui
