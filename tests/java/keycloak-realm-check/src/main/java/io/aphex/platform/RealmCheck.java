package io.aphex.platform;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.util.List;
import java.util.Map;
import org.keycloak.representations.idm.ClientRepresentation;
import org.keycloak.representations.idm.RealmRepresentation;
import org.keycloak.representations.idm.RoleRepresentation;

/**
 * Reads each realm JSON given as an argument into Keycloak's RealmRepresentation with unknown properties
 * rejected, and prints one line per realm: realm, clients with their client roles, realm roles.
 * Exit status 1 on the first file Keycloak's model does not accept.
 */
public final class RealmCheck {
    private RealmCheck() {
    }

    public static void main(String[] args) {
        ObjectMapper mapper = new ObjectMapper()
                .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
                .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true);
        if (args.length == 0) {
            System.err.println("usage: RealmCheck realm.json...");
            System.exit(2);
        }
        for (String path : args) {
            RealmRepresentation realm;
            try {
                realm = mapper.readValue(new File(path), RealmRepresentation.class);
            } catch (Exception e) {
                System.out.println("REJECTED " + path + ": " + e.getMessage().split("\n")[0]);
                System.exit(1);
                return;
            }
            StringBuilder line = new StringBuilder("OK " + path + " realm=" + realm.getRealm());
            Map<String, List<RoleRepresentation>> clientRoles =
                    realm.getRoles() == null ? Map.of() : realm.getRoles().getClient();
            if (realm.getClients() != null) {
                for (ClientRepresentation client : realm.getClients()) {
                    line.append(" client=").append(client.getClientId()).append('[');
                    List<RoleRepresentation> roles = clientRoles == null ? null : clientRoles.get(client.getClientId());
                    if (roles != null) {
                        line.append(String.join(",", roles.stream().map(RoleRepresentation::getName).toList()));
                    }
                    line.append(']');
                }
            }
            if (realm.getRoles() != null && realm.getRoles().getRealm() != null) {
                line.append(" realmRoles=").append(String.join(",",
                        realm.getRoles().getRealm().stream().map(RoleRepresentation::getName).toList()));
            }
            System.out.println(line);
        }
    }
}
