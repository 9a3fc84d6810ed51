#!/usr/bin/env node
import "../dist/irsa-anywhere.js";
