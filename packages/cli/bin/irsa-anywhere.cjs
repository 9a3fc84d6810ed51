#!/usr/bin/env node
require("../dist/bundle/irsa-anywhere.cjs");
