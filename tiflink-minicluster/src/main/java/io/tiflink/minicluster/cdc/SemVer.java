package io.tiflink.minicluster.cdc;

/** The ticdc_version checks TiKV makes; an empty or unparsable version counts as 0.0.0. */
final class SemVer {
    private SemVer() {}

    static boolean atLeast(String version, int major, int minor, int patch) {
        int[] v = parse(version);
        if (v[0] != major) {
            return v[0] > major;
        }
        if (v[1] != minor) {
            return v[1] > minor;
        }
        return v[2] >= patch;
    }

    private static int[] parse(String version) {
        int[] parts = new int[3];
        if (version == null) {
            return parts;
        }
        String core = version.startsWith("v") ? version.substring(1) : version;
        int dash = core.indexOf('-');
        if (dash >= 0) {
            core = core.substring(0, dash);
        }
        String[] fields = core.split("\\.");
        if (fields.length != 3) {
            return new int[3];
        }
        try {
            for (int i = 0; i < 3; i++) {
                parts[i] = Integer.parseInt(fields[i]);
            }
        } catch (NumberFormatException e) {
            return new int[3];
        }
        return parts;
    }
}
