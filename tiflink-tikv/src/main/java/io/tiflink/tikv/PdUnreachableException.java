package io.tiflink.tikv;

/**
 * No PD address answers: the message names each address tried and why it failed. Callers that know
 * the option the addresses came from put its name in front with {@link #forOption}.
 */
public class PdUnreachableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final String addresses;

    PdUnreachableException(String addresses, String message, Throwable cause) {
        super(message, cause);
        this.addresses = addresses;
    }

    /** The PD addresses tried, as configured. */
    public String addresses() {
        return addresses;
    }

    /** This failure, its message led by the option (and its value) that named the addresses. */
    public PdUnreachableException forOption(String option) {
        return new PdUnreachableException(
                addresses, "'" + option + "' = '" + addresses + "': " + getMessage(), this);
    }
}
