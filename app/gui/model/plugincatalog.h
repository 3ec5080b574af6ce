// The plugins the workbench knows: the function registry every cluster runs with, the
// loader that fills it from shared libraries in the plugin folders, the libraries it refused
// (with why) and a watch on the loaded files, so a rebuilt plugin can be offered for reload.
// GUI thread only; no widgets.
#pragma once

#include "taskbench/pluginloader.h"

#include <QFileSystemWatcher>
#include <QObject>
#include <QStringList>

#include <memory>
#include <vector>

namespace taskbench::gui {

class PluginCatalog : public QObject
{
    Q_OBJECT
public:
    explicit PluginCatalog(QObject *parent = nullptr);
    ~PluginCatalog() override;

    /// Folders scanned besides PluginLoader::defaultSearchPath().
    void setExtraFolders(const QStringList &folders) { m_extraFolders = folders; }
    QStringList extraFolders() const { return m_extraFolders; }
    /// Whether the default search path is scanned too (tests turn it off).
    void setUseDefaultSearchPath(bool on) { m_useDefaultPath = on; }
    QStringList folders() const;
    /// Scans every plugin folder (refusals are collected, never fatal).
    void scan();
    /// Loads (or reloads, for a path already loaded) one library. Returns a message on refusal.
    QString load(const QString &path);

    const std::vector<PluginRecord> &plugins() const;
    const std::vector<PluginRefusal> &refusals() const { return m_refusals; }
    std::vector<FunctionPtr> functions() const;
    FunctionPtr function(const QString &qualifiedName) const;
    std::shared_ptr<FunctionRegistry> registry() const { return m_registry; }

signals:
    void pluginsChanged();
    /// A loaded plugin library changed on disk (rebuilt): offer a reload.
    void pluginFileChanged(const QString &path);
    /// A short message for the status bar.
    void message(const QString &text);

private:
    void watchFiles();
    void keepRefusals(std::vector<PluginRefusal> refused);

    std::shared_ptr<FunctionRegistry> m_registry;
    std::unique_ptr<PluginLoader> m_loader;
    std::vector<PluginRefusal> m_refusals;
    QStringList m_extraFolders;
    bool m_useDefaultPath = true;
    QFileSystemWatcher m_watcher;
};

} // namespace taskbench::gui
