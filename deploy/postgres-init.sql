-- One database per service: each service owns its data.
CREATE DATABASE registry;
CREATE DATABASE funding;
CREATE DATABASE distribution;
CREATE DATABASE audit;
