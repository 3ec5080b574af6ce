// The result cache's controls in the History panel: use it or not, its size limit (both
// applied when the next cluster starts), what it holds now, and "Clear result cache".
#pragma once

#include <QWidget>

class QCheckBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace taskbench::gui {

class GuiResultCache;

class ResultCacheBox : public QWidget
{
    Q_OBJECT
public:
    explicit ResultCacheBox(GuiResultCache *cache, QWidget *parent = nullptr);

    /// Asks the cache what it holds (the summary label updates when it answers).
    void refresh();
    /// Asks for confirmation, then clears the cache.
    void confirmAndClear();

signals:
    void message(const QString &text);

protected:
    void showEvent(QShowEvent *event) override;

private:
    GuiResultCache *m_cache;
    QCheckBox *m_enabled;
    QSpinBox *m_maxMb;
    QLabel *m_summary;
    QPushButton *m_clear;
};

} // namespace taskbench::gui
