/* The shell's network verbs: net-list. */
#include "kernel/console/commands.h"
#include "kernel/net/switch.h"

void cmd_net_list(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	net_switch_list();
}
