#!/usr/bin/env node
// The installed `zego-rtmp`: starts the bundle in dist/. This file is in the repository, so that pnpm links the bin
// of a workspace package that depends on the CLI before anything is built, without a "Failed to create bin" warning.
import "../dist/bin.js"
