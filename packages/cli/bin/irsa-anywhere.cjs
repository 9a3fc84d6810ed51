#!/usr/bin/env node
import "../dist/bundle/irsa-anywhere.js";
