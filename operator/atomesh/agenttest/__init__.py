"""Agent tests: cases next to an Agent, run offline through the runner's real steps and harness
against emulated model and forge, judged on the artifact (`atomesh test`)."""
