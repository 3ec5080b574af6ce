// The result cache in the workbench (see taskbench/history/resultcache.h): each cluster the
// EngineBridge starts gets a SqliteResultCache in the history database when the setting is
// on, its entries name the session the GuiRecorder records, and the cache can be inspected
// and cleared while a cluster runs. Database work (stats, clear) runs on a pool thread; the
// results come back as signals.
//
// Settings (QSettings): cache/enabled (default true) and cache/maxMb (default 256), applied
// when a cluster starts.
#pragma once

#include <QObject>
#include <QThreadPool>

#include <cstdint>
#include <memory>

namespace taskbench {
struct ClusterOptions;
namespace history {
class SqliteResultCache;
}
} // namespace taskbench

namespace taskbench::gui {

class EngineBridge;
class GuiRecorder;

class GuiResultCache : public QObject
{
    Q_OBJECT
public:
    /// Installs itself as `bridge`'s cluster-options hook; `recorder` (may be null) names
    /// the sessions new entries belong to.
    GuiResultCache(EngineBridge *bridge, GuiRecorder *recorder, QObject *parent = nullptr);
    ~GuiResultCache() override;

    static bool enabled();
    static void setEnabled(bool on);
    static int maxMegabytes();
    static void setMaxMegabytes(int mb);

    /// Adds the cache to options that are about to start a cluster (the bridge's hook).
    void prepare(ClusterOptions &options);
    /// Whether the running cluster consults a cache.
    bool active() const;

public slots:
    /// Counts entries and bytes in the background: statsReady or failed.
    void requestStats();
    /// Deletes every entry (the running cluster's in-memory index too): cleared or failed.
    void clear();

signals:
    void statsReady(qint64 entries, qint64 bytes, qint64 maxBytes, quint64 hits, quint64 misses);
    void cleared(qint64 entries);
    void failed(const QString &message);

private:
    /// Runs `work(cache)` on the pool (the running cluster's cache, or one opened there),
    /// then `reply(result, cache ok, its error)` on the GUI thread unless this object is gone.
    template <typename Work, typename Reply>
    void inBackground(Work work, Reply reply);

    GuiRecorder *m_recorder = nullptr;
    std::weak_ptr<history::SqliteResultCache> m_live; ///< owned by the running cluster
    QThreadPool m_pool;
};

} // namespace taskbench::gui
