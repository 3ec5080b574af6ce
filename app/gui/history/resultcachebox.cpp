// ResultCacheBox: the result cache's settings and maintenance (see resultcachebox.h).
#include "resultcachebox.h"

#include "guiresultcache.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>

namespace taskbench::gui {

ResultCacheBox::ResultCacheBox(GuiResultCache *cache, QWidget *parent)
    : QWidget(parent)
    , m_cache(cache)
{
    setAccessibleName(tr("Result cache"));
    m_enabled = new QCheckBox(tr("Use result &cache"), this);
    m_enabled->setAccessibleName(tr("Use result cache"));
    m_enabled->setToolTip(tr("Serve pure tasks computed before (by the same plugin build, with "
                             "the same arguments) from the history database. Takes effect "
                             "when the next cluster starts"));
    m_enabled->setChecked(GuiResultCache::enabled());
    m_maxMb = new QSpinBox(this);
    m_maxMb->setRange(1, 1'000'000);
    m_maxMb->setSuffix(tr(" MB"));
    m_maxMb->setValue(GuiResultCache::maxMegabytes());
    m_maxMb->setAccessibleName(tr("Cache limit"));
    m_maxMb->setToolTip(tr("Least recently used entries beyond this are evicted"));
    auto *limitLabel = new QLabel(tr("&limit:"), this);
    limitLabel->setBuddy(m_maxMb);
    m_summary = new QLabel(this);
    m_summary->setAccessibleName(tr("Result cache summary"));
    m_clear = new QPushButton(tr("Clear result cach&e"), this);
    m_clear->setAccessibleName(tr("Clear result cache"));

    auto *row = new QHBoxLayout(this);
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(m_enabled);
    row->addWidget(limitLabel);
    row->addWidget(m_maxMb);
    row->addWidget(m_summary, 1);
    row->addWidget(m_clear);

    connect(m_enabled, &QCheckBox::toggled, this, [](bool on) { GuiResultCache::setEnabled(on); });
    connect(m_maxMb, &QSpinBox::valueChanged, this, [](int mb) {
        GuiResultCache::setMaxMegabytes(mb);
    });
    connect(m_clear, &QPushButton::clicked, this, &ResultCacheBox::confirmAndClear);
    connect(cache,
            &GuiResultCache::statsReady,
            this,
            [this](qint64 entries, qint64 bytes, qint64 maxBytes, quint64 hits, quint64 misses) {
                const QLocale locale;
                QString text
                    = tr("%n cached result(s), %1 of %2", nullptr, int(entries))
                          .arg(locale.formattedDataSize(bytes), locale.formattedDataSize(maxBytes));
                if (m_cache->active())
                    text += tr("; this cluster: %1 hit(s)", nullptr, int(hits))
                                .arg(locale.toString(qulonglong(hits)))
                            + tr(", %1 miss(es)", nullptr, int(misses))
                                  .arg(locale.toString(qulonglong(misses)));
                m_summary->setText(text);
                m_summary->setAccessibleDescription(text);
                m_clear->setEnabled(entries > 0);
            });
    connect(cache, &GuiResultCache::cleared, this, [this](qint64 entries) {
        emit message(tr("Result cache cleared (%n result(s) removed)", nullptr, int(entries)));
        refresh();
    });
    connect(cache, &GuiResultCache::failed, this, [this](const QString &text) {
        m_summary->setText(text);
        m_summary->setAccessibleDescription(text);
        emit message(text);
    });
}

void ResultCacheBox::refresh()
{
    m_cache->requestStats();
}

void ResultCacheBox::confirmAndClear()
{
    const auto answer = QMessageBox::question(
        this,
        tr("Clear result cache"),
        tr("Delete every cached result? Pure tasks will be computed again."),
        QMessageBox::Yes | QMessageBox::Cancel,
        QMessageBox::Cancel);
    if (answer == QMessageBox::Yes)
        m_cache->clear();
}

void ResultCacheBox::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refresh();
}

} // namespace taskbench::gui
