// The map form: run one task function over many inputs. Inputs come from a range or pasted
// list per parameter, a JSON-lines or CSV file, or the selected futures (map over futures).
// Functions of several parameters get a sweep builder: one list per parameter, combined as
// zip or grid, with a live count of the tasks before anything is submitted. The reduce row
// applies a function to the selected futures (the tutorial's submit(sum, futures)).
#pragma once

#include "sweepbuilder.h"
#include "taskoptionsbox.h"

#include "taskbench/client.h"
#include "taskbench/functionregistry.h"

#include <QWidget>

#include <functional>
#include <optional>
#include <vector>

class QCheckBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QRadioButton;
class QSpinBox;

namespace taskbench::gui {

class ChoicePicker;
class FunctionChooser;

class MapForm : public QWidget
{
    Q_OBJECT
public:
    enum Source { Values, File, SelectedFutures };

    explicit MapForm(QWidget *parent = nullptr);

    void setFunctions(const std::vector<FunctionPtr> &functions);
    void setCurrentFunction(const QString &qualifiedName);
    QString currentFunction() const;
    void setSelectionProvider(std::function<QStringList()> provider);
    /// The function the Reduce button applies (one whose first parameter takes a list).
    void setReduceFunction(const QString &qualifiedName);

    void setSource(Source source);
    Source source() const;
    /// The input line of a parameter (Values source), e.g. "0..9".
    QLineEdit *inputFor(const QString &param) const;
    void setMode(SweepMode mode);
    SweepMode mode() const;
    /// Loads inputs from a file (JSON lines or CSV by extension or content).
    bool loadFile(const QString &path);
    /// Sets file content directly (tests): `csv` picks the parser.
    void setFileContent(const QString &text, bool csv);
    QSpinBox *retriesSpin() const { return m_options->retriesSpin(); }
    QCheckBox *pureCheck() const { return m_options->pureCheck(); }
    QPushButton *mapButton() const { return m_map; }

    /// Tasks the current inputs make (0 with previewError() set when they are invalid).
    std::size_t previewCount() const { return m_count; }
    QString previewText() const;
    QString previewError() const { return m_previewError; }

    /// Builds the argument lists; nullopt with the error shown when the inputs are invalid.
    std::optional<std::vector<std::vector<Value>>> buildArguments(std::size_t limit = 10'000'000);
    bool tryMap();
    bool tryReduce();
    void showFormError(const QString &message);

signals:
    void mapRequested(const QString &function,
                      const std::vector<std::vector<Value>> &argLists,
                      const SubmitOptions &opts);
    void reduceRequested(const QString &function,
                         const std::vector<Value> &args,
                         const SubmitOptions &opts);
    void functionChanged(const QString &qualifiedName);

private:
    void rebuildInputs();
    void updatePreview();
    std::optional<std::vector<std::vector<Value>>> columnsFromFile(QString *error) const;

    FunctionChooser *m_chooser = nullptr;
    QLabel *m_signature = nullptr;
    ChoicePicker *m_source = nullptr;
    QWidget *m_inputsHost = nullptr;
    QFormLayout *m_inputsLayout = nullptr;
    std::vector<std::pair<QString, QLineEdit *>> m_inputs;
    QWidget *m_fileRow = nullptr;
    QPushButton *m_openFile = nullptr;
    QLabel *m_fileLabel = nullptr;
    QString m_fileText;
    bool m_fileCsv = false;
    QRadioButton *m_zip = nullptr;
    QRadioButton *m_grid = nullptr;
    QWidget *m_modeRow = nullptr;
    QLabel *m_preview = nullptr;
    TaskOptionsBox *m_options = nullptr;
    QLabel *m_formError = nullptr;
    QPushButton *m_map = nullptr;
    ChoicePicker *m_reduceBox = nullptr;
    QPushButton *m_reduce = nullptr;
    std::function<QStringList()> m_selection;
    std::size_t m_count = 0;
    QString m_previewError;
};

} // namespace taskbench::gui
