/** The CLI's exit codes, documented in README.md. */
export const EXIT_OK = 0;
/** The command was right but failed at run time: network, permissions, a server's answer. */
export const EXIT_FAILURE = 1;
/** Bad input or usage: a bad flag, an unreadable or unusable key, an invalid issuer. */
export const EXIT_USAGE = 2;
