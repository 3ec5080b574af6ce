// GuiResultCache: the workbench's result cache settings and maintenance (see
// guiresultcache.h).
#include "guiresultcache.h"

#include "enginebridge.h"
#include "guirecorder.h"

#include "taskbench/client.h"
#include "taskbench/history/resultcache.h"
#include "taskbench/logging.h"

#include <QPointer>
#include <QSettings>

#include <algorithm>

namespace taskbench::gui {

namespace {

const QString kEnabledKey = QStringLiteral("cache/enabled");
const QString kMaxMbKey = QStringLiteral("cache/maxMb");
constexpr int kDefaultMaxMb = 256;

history::ResultCacheOptions cacheOptions()
{
    history::ResultCacheOptions o;
    o.databasePath = GuiRecorder::databasePath().toStdString();
    o.maxBytes = std::uint64_t(GuiResultCache::maxMegabytes()) << 20;
    return o;
}

/// The running cluster's cache, so that its in-memory index agrees with the database; else a
/// connection of its own. Pool thread only: opening the database is not GUI-thread work.
std::shared_ptr<history::SqliteResultCache>
openCache(const std::weak_ptr<history::SqliteResultCache> &live,
          const history::ResultCacheOptions &options)
{
    if (auto cache = live.lock())
        return cache;
    return std::make_shared<history::SqliteResultCache>(options);
}

} // namespace

GuiResultCache::GuiResultCache(EngineBridge *bridge, GuiRecorder *recorder, QObject *parent)
    : QObject(parent)
    , m_recorder(recorder)
{
    m_pool.setMaxThreadCount(1); // stats and clear in the order asked
    bridge->setClusterOptionsHook([this](ClusterOptions &options) { prepare(options); });
    if (recorder)
        connect(recorder, &GuiRecorder::sessionStarted, this, [this](qint64 id) {
            if (auto cache = m_live.lock())
                cache->setSession(id);
        });
}

GuiResultCache::~GuiResultCache()
{
    m_pool.waitForDone();
}

bool GuiResultCache::enabled()
{
    return QSettings().value(kEnabledKey, true).toBool();
}

void GuiResultCache::setEnabled(bool on)
{
    QSettings().setValue(kEnabledKey, on);
}

int GuiResultCache::maxMegabytes()
{
    return std::clamp(QSettings().value(kMaxMbKey, kDefaultMaxMb).toInt(), 1, 1'000'000);
}

void GuiResultCache::setMaxMegabytes(int mb)
{
    QSettings().setValue(kMaxMbKey, std::clamp(mb, 1, 1'000'000));
}

void GuiResultCache::prepare(ClusterOptions &options)
{
    m_live.reset();
    options.resultCache.reset();
    if (!enabled())
        return;
    history::ResultCacheOptions o = cacheOptions();
    // The plugin files are hashed and the index loaded on the cache's own thread.
    o.preloadPlugins = options.pluginPaths;
    auto cache = std::make_shared<history::SqliteResultCache>(o);
    if (!cache->ok()) {
        log::get("gui")->warn("result cache: {}; every task is computed", cache->errorString());
        return;
    }
    if (m_recorder && m_recorder->sessionId() > 0)
        cache->setSession(m_recorder->sessionId());
    m_live = cache;
    options.resultCache = std::move(cache);
}

bool GuiResultCache::active() const
{
    return !m_live.expired();
}

void GuiResultCache::requestStats()
{
    inBackground(
        [](history::SqliteResultCache &cache) {
            return cache.ok() ? cache.stats() : history::ResultCacheStats{};
        },
        [this](const history::ResultCacheStats &s, bool ok, const QString &error) {
            if (!ok)
                emit failed(tr("Result cache: %1").arg(error));
            else
                emit statsReady(s.entries, s.bytes, qint64(s.maxBytes), s.hits, s.misses);
        });
}

void GuiResultCache::clear()
{
    inBackground(
        [](history::SqliteResultCache &cache) {
            const std::int64_t before = cache.ok() ? cache.stats().entries : 0;
            return cache.ok() && cache.clear() ? before : std::int64_t(-1);
        },
        [this](std::int64_t removed, bool, const QString &error) {
            if (removed >= 0)
                emit cleared(removed);
            else
                emit failed(tr("Could not clear the result cache: %1").arg(error));
        });
}

template <typename Work, typename Reply>
void GuiResultCache::inBackground(Work work, Reply reply)
{
    QPointer<GuiResultCache> self(this);
    std::weak_ptr<history::SqliteResultCache> live = m_live;
    const history::ResultCacheOptions options = cacheOptions();
    m_pool.start([self, live, options, work, reply] {
        const std::shared_ptr<history::SqliteResultCache> cache = openCache(live, options);
        auto result = work(*cache);
        const bool ok = cache->ok();
        const QString error = QString::fromStdString(cache->errorString());
        QMetaObject::invokeMethod(
            self.data(),
            [self, reply, result, ok, error] {
                if (self)
                    reply(result, ok, error);
            },
            Qt::QueuedConnection);
    });
}

} // namespace taskbench::gui
