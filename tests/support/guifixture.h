// What the GUI suites set up alike: a workbench whose plugin catalog scans the bundled
// plugins (and any extra folders the suite names), never the user's own plugin folders.
// Header-only: only the suites that link the GUI include it.
#pragma once

#include "plugincatalog.h"

#include <QStringList>

namespace taskbench::testsupport {

/// The catalog scans only TASKBENCH_PLUGIN_DIR and `extra`.
inline void useBundledPlugins(gui::PluginCatalog &catalog, const QStringList &extra = {})
{
    catalog.setUseDefaultSearchPath(false);
    catalog.setExtraFolders(QStringList{QStringLiteral(TASKBENCH_PLUGIN_DIR)} + extra);
}

} // namespace taskbench::testsupport
