#include "plugincatalog.h"

#include <QFileInfo>

#include <algorithm>

namespace taskbench::gui {

PluginCatalog::PluginCatalog(QObject *parent)
    : QObject(parent)
    , m_registry(std::make_shared<FunctionRegistry>())
    , m_loader(std::make_unique<PluginLoader>(*m_registry))
{
    connect(&m_watcher, &QFileSystemWatcher::fileChanged, this, [this](const QString &path) {
        // A rebuilt library is often written as a new file: watch the path again.
        if (QFileInfo::exists(path) && !m_watcher.files().contains(path))
            m_watcher.addPath(path);
        emit pluginFileChanged(path);
    });
}

PluginCatalog::~PluginCatalog() = default;

QStringList PluginCatalog::folders() const
{
    QStringList out;
    if (m_useDefaultPath)
        for (const std::string &f : PluginLoader::defaultSearchPath())
            out << QString::fromStdString(f);
    for (const QString &f : m_extraFolders)
        if (!out.contains(f))
            out << f;
    return out;
}

void PluginCatalog::keepRefusals(std::vector<PluginRefusal> refused)
{
    // One entry per file: the latest reason replaces an earlier one.
    for (PluginRefusal &r : refused) {
        std::erase_if(m_refusals, [&](const PluginRefusal &x) { return x.path == r.path; });
        m_refusals.push_back(std::move(r));
    }
}

void PluginCatalog::scan()
{
    std::vector<std::string> dirs;
    for (const QString &f : folders())
        if (QFileInfo(f).isDir())
            dirs.push_back(f.toStdString());
    keepRefusals(m_loader->scan(dirs).refused);
    watchFiles();
    emit pluginsChanged();
}

QString PluginCatalog::load(const QString &path)
{
    PluginScanReport report = m_loader->load(path.toStdString());
    const std::string p = path.toStdString();
    std::erase_if(m_refusals, [&](const PluginRefusal &x) { return x.path == p; });
    const QString reason
        = report.refused.empty() ? QString() : QString::fromStdString(report.refused.back().reason);
    keepRefusals(std::move(report.refused));
    watchFiles();
    emit pluginsChanged();
    emit message(reason.isEmpty() ? tr("Loaded %1").arg(QFileInfo(path).fileName())
                                  : tr("Refused %1: %2").arg(QFileInfo(path).fileName(), reason));
    return reason;
}

void PluginCatalog::watchFiles()
{
    for (const PluginRecord &p : m_loader->plugins()) {
        const QString path = QString::fromStdString(p.path);
        if (!path.isEmpty() && !m_watcher.files().contains(path) && QFileInfo::exists(path))
            m_watcher.addPath(path);
    }
}

const std::vector<PluginRecord> &PluginCatalog::plugins() const
{
    return m_loader->plugins();
}

std::vector<FunctionPtr> PluginCatalog::functions() const
{
    return m_registry->all();
}

FunctionPtr PluginCatalog::function(const QString &qualifiedName) const
{
    return m_registry->find(qualifiedName.toStdString());
}

} // namespace taskbench::gui
