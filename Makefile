# Pipeline shortcuts. Every stage is a standalone script: `npx tsx N_name.ts --help` lists its flags, and every
# target below passes ARGS on to its script: make trial ARGS="--dry-run", make stage3 ARGS="--num-conversations 50".
.DEFAULT_GOAL := help
# `node --import tsx` (tsx.is/dev-api, Node ≥ 20.6), not `npx tsx`: the stage is make's own child, so make waits for
# the stage's own exit. Through npx, a SIGTERM to the group ends npx at once (143) while the stage is still saving.
TSX := node --import tsx

# stageN for every script N_*.ts: the scripts are named for their place in src/pipeline.ts, so a new stage is its
# script and its table row; tests/makefile.test.ts fails when the targets and the table differ.
STAGE_TARGETS := $(foreach s,$(sort $(wildcard [0-9]_*.ts)),stage$(firstword $(subst _, ,$(s))))

.PHONY: help setup demo domain trial full $(STAGE_TARGETS) stats report push clean clean-trial test typecheck lint format bench

# The stage targets' help comes from the stage table (src/pipeline.ts), printed by scripts/stages.ts.
help: ## list the commands
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'
	@$(TSX) scripts/stages.ts

setup: ## install dependencies (npm ci) and create .env from .env.example
	npm ci
	@test -f .env || (cp .env.example .env && echo "created .env: put your keys in it")

demo: ## see it work: the trial against a local imitation, no key, no network → output/demo/
	$(TSX) scripts/demo.ts $(ARGS)

domain: ## propose data/domain.json from your facts (one call): make domain ARGS="--input docs/"
	$(TSX) scripts/propose_domain.ts $(ARGS)

trial: ## run all seven stages on the first 10 chunks → output/trial_*.jsonl
	$(TSX) trial_run.ts $(ARGS)

full: $(STAGE_TARGETS) ## run the seven stages in order
	@echo "✓ Full pipeline completed: training set in output/conversations_final.jsonl"

# stageN runs the script N_*.ts: the scripts are named for their place in src/pipeline.ts.
$(STAGE_TARGETS): stage%:
	$(TSX) $(wildcard $*_*.ts) $(ARGS)

stats: ## one table across all stages of the full run and the trial
	$(TSX) scripts/stats.ts $(ARGS)

report: ## self-contained HTML report → output/report.html, output/trial_report.html
	$(TSX) scripts/report.ts $(ARGS)

push: ## upload the training set and its dataset card to the Hugging Face Hub: make push ARGS="--repo ORG/NAME"
	$(TSX) scripts/push_to_hub.ts $(ARGS)

clean: ## remove every generated file
	rm -rf output/

clean-trial: ## remove the trial's files
	rm -f output/trial_*

test: ## run the test suite (offline: no key, no network)
	npm test

typecheck: ## type-check everything
	npx --no-install tsc --noEmit -p .

lint: ## format check and lint (Biome; the rules and why they depart from the defaults: biome.jsonc)
	npx --no-install biome check .

format: ## format the whole tree in place (Biome)
	npx --no-install biome format --write .

bench: ## dedup benchmark at 2k, 10k and 100k conversations
	npm run bench
