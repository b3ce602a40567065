// courier-ctl: the operator's and scripts' tool. See courier-ctl(1); the
// command table is lib/ctl/ctl_commands.cpp.
#include "ctl/ctl_commands.h"

int main(int argc, char** argv) { return courier::RunCourierCtl(argc, argv); }
