/**
 * File locations: the default config beside a compiled executable, data paths beside the config.
 */
import { assertEquals } from "../assert.ts";
import { defaultConfigPath, dirOf, resolveDataPath } from "../../src/config/paths.ts";

Deno.test("the default config is in the working folder, or beside a compiled executable", () => {
  assertEquals(defaultConfigPath(false, () => "/usr/bin/deno"), "config.yaml");
  assertEquals(
    defaultConfigPath(true, () => "/opt/gateway/linux-server"),
    "/opt/gateway/config.yaml",
  );
  assertEquals(
    defaultConfigPath(true, () => "C:\\gateway\\windows-server.exe"),
    "C:\\gateway\\config.yaml",
  );
});

Deno.test("data paths are relative to the config file's folder unless absolute", () => {
  assertEquals(resolveDataPath("config.yaml", "data/images"), "data/images");
  assertEquals(resolveDataPath("/opt/gw/config.yaml", "data/images"), "/opt/gw/data/images");
  assertEquals(resolveDataPath("/opt/gw/config.yaml", "/var/lib/gw"), "/var/lib/gw");
  assertEquals(resolveDataPath("C:\\gw\\config.yaml", "D:\\images"), "D:\\images");
  assertEquals(dirOf("/config.yaml"), "/");
});
