// The Submit and Map forms' shared pieces (formparts.h).
#include "formparts.h"

#include "choicepicker.h"
#include "icons.h"
#include "statusstyle.h"

#include <QLabel>

namespace taskbench::gui {

void addFunctionItem(ChoicePicker *picker, const FunctionInfo &f)
{
    const QString name = QString::fromStdString(f.qualifiedName);
    picker->addItem(themedIcon(QStringLiteral("function")), name, name);
    picker->setItemData(
        picker->count() - 1, QString::fromStdString(f.signature()), Qt::ToolTipRole);
}

QLabel *newFormErrorLabel(QWidget *parent, const QString &accessibleName)
{
    auto *label = new QLabel(parent);
    label->setWordWrap(true);
    label->setAccessibleName(accessibleName);
    QPalette pal = label->palette();
    pal.setColor(QPalette::WindowText, statusColor(FutureStatus::Error));
    label->setPalette(pal);
    label->hide();
    return label;
}

} // namespace taskbench::gui
