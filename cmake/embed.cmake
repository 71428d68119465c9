# Writes OUT, a header defining NAME as the text of IN (a raw string literal): documents the
# binary serves, kept in the tree as plain files.
file(READ ${IN} content)
string(FIND "${content}" ")sgembed\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter )sgembed\"")
endif()
file(WRITE ${OUT} "// Generated from ${IN} by cmake/embed.cmake.\n#pragma once\ninline constexpr char ${NAME}[] = R\"sgembed(${content})sgembed\";\n")
